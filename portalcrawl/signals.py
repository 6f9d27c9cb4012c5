"""Signals portalcrawl components send each other through the crawler's signal manager."""

# Sent when a URL could not be turned into an article or listing: a download error after retries, an
# HTTP error status, a refused URL, a blocked answer or a page that failed extraction. Arguments:
# url (str), status (int | None), reason (str). The crawl_runs extension records it in fetch_errors.
fetch_failed = object()

# Sent for each page worth keeping as served: an article page (or continuation page) that was
# extracted, a listing page that yielded links. Argument: capture (portalcrawl.pages.PageCapture).
# The storage pipeline's PageKeeper writes it with the article's batch.
page_fetched = object()
