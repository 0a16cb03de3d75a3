"""Each scenario's report: headline rows for the final table and Markdown detail tables."""
