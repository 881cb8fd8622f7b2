# Sourced by the install scripts: how they run Debian's package manager.
# `as_root CMD...` runs a command as root (directly, or through password-less sudo; it
# never prompts, and stops with a message naming WHAT when neither is available);
# `debian_install WHAT PACKAGE...` installs packages without recommends.

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        echo "error: installing ${WHAT:-packages} needs root (or password-less sudo)" >&2
        exit 1
    fi
}

debian_install() {
    WHAT="$1"
    shift
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update
    as_root apt-get install -y --no-install-recommends "$@"
}
