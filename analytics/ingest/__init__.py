"""Reading and checking incoming data: streaming parsers (``parsers``), the
per-kind column specs and validation (``kinds``), ISO currency codes
(``currencies``) and the staging/upsert fast path (``bulk``). The orchestration
(transactions, audit, runs) is ``analytics.services.imports``."""
