"""Pure renderers of a RunReport: JSON, HTML, terminal summary. Renderers never probe."""
