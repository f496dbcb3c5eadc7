"""The kernel: what every app may import and nothing here imports an app. Errors and
their HTTP mapping, database helpers, text and CSV helpers, the API conventions, calendar
files, media storage and values kept in the cache. No models (docs/architecture.md)."""
