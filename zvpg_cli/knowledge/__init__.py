"""The knowledge base: what the Zerto documentation says about each status and
substatus (data/statuses.yaml), its typed model, validation, loading, lookup of
what people type and decoding of API codes."""
