"""What both PDF readers (the text layer in pdf.py, DeepDOC in pdf_deepdoc.py) share."""

from __future__ import annotations

import threading

# Seconds allowed per page of the requested range (at least MIN_BUDGET_S): a PDF whose pages each take
# seconds (loops in content streams) is cut off between pages with a reason instead of holding a worker.
PAGE_BUDGET_S = 2.0
MIN_BUDGET_S = 60.0
ENCRYPTED = "The PDF is encrypted; upload it without a password."
# PDFium is not thread-safe and the local runtime parses in a thread pool.
PDFIUM_LOCK = threading.Lock()
