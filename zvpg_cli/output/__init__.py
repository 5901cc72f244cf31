"""Everything that turns results into text: rich views for people, JSON, YAML,
Markdown, CSV and the monitoring formats. Rich is imported only here, and only
by the modules that draw for a terminal."""
