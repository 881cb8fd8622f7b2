"""Reports: specs, their windows, the six report definitions, and the export engine
(plain Python, no Dagster). The flow of one report:

spec (YAML / JSON / run config) -> `spec_io.load_spec` (checked once, with the catalog)
-> `request.prepare` (window resolved once, filters bound) -> `engine.export_report`
(published marts -> validated CSV / ZIP -> destination).
"""
