"""Reading and checking incoming data: streaming parsers (``parsers``), the
per-kind column specs and validation (``kinds``), ISO currency codes
(``currencies``), the staging/upsert fast path (``bulk``) and the one bulk writer
(``bulk_insert``). The orchestration (transactions, audit, runs) is the package
``analytics.services.imports``."""
