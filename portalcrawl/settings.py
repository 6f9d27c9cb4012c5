"""Scrapy settings for portalcrawl: polite defaults, every project setting prefixed PORTALCRAWL_."""

BOT_NAME = "portalcrawl"
SPIDER_MODULES = ["portalcrawl.spiders"]
NEWSPIDER_MODULE = "portalcrawl.spiders"
# `scrapy crawl portal` checks its -a arguments before starting (a bad one is one line, exit 2).
COMMANDS_MODULE = "portalcrawl.commands"

# Identify ourselves honestly, with a page that explains the crawler and how to reach its operator.
USER_AGENT = "portalcrawl/0.1 (+https://github.com/portalcrawl/portalcrawl; archive of public news columns)"
# Government portals publish robots.txt for a reason; obey it.
ROBOTSTXT_OBEY = True
# Gov servers are small: at most two requests in flight per host, spaced and adapted to latency.
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Scrapy starts this many worker tasks for every response's output; our pipelines are synchronous, so
# more than a few only costs CPU (the default 100 cost ~1.4 ms per page).
CONCURRENT_ITEMS = 8
# Scrapy's check for generator callbacks that ``return`` a value re-reads and re-parses the callback's
# source on every response (its weak cache cannot hold bound methods): ~0.6 ms of CPU per page. Our
# callbacks are checked once by tests/test_spider.py instead.
WARN_ON_GENERATOR_RETURN_VALUE = False
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# Slow portals are common, but a server that never answers must not hold a cron run forever.
DOWNLOAD_TIMEOUT = 30
# Article pages are small; anything larger is a mistake or an attack (gzip bombs count expanded size).
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
# A truncated body (connection closed before Content-Length) is an error, never a half article.
DOWNLOAD_FAIL_ON_DATALOSS = True
# Name lookups of dead portals fail fast instead of holding a slot for Scrapy's default minute.
DNS_TIMEOUT = 15
# Retry transient failures a little; 403/412/521 walls are not retried (see the block detector).
RETRY_ENABLED = True
RETRY_TIMES = 2
# Scrapy's list, stated on purpose: gateway/server hiccups and 429 (paced by Retry-After), no walls.
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Portals chain a redirect or two (http→https, / → index.html); more than this is a loop.
REDIRECT_MAX_TIMES = 5
# Non-2xx answers reach the spider's errback as HttpError unless a request asks for them.
HTTPERROR_ALLOW_ALL = False
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19 otherwise opens, on every run, a localhost HTTP server that executes Python sent to it
# (token in a job file under the user's profile); like the telnet console, nothing a cron crawl needs.
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

DOWNLOADER_MIDDLEWARES = {
    # Runs before Scrapy's robots/offsite checks see nothing to do with it: refuses unsafe URLs early.
    "portalcrawl.middlewares.url_filter.UrlFilterMiddleware": 50,
    # Then what a host name resolves to: a name of an allowed domain may still point at an intranet.
    "portalcrawl.middlewares.resolved_address.ResolvedAddressMiddleware": 55,
    # robots.txt as RFC 9309 says (redirects to any host; 5xx or no answer disallows the host), in the
    # place of Scrapy's RobotsTxtMiddleware, which crawls everything then.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "portalcrawl.middlewares.robots.RobotsPolicyMiddleware": 100,
    # Classifies WAF/challenge/rate-limit answers before RetryMiddleware (550) would retry them.
    "portalcrawl.middlewares.blocking.BlockDetectionMiddleware": 560,
    # Re-decodes pages whose HTTP charset and <meta> charset disagree (after decompression at 590).
    "portalcrawl.middlewares.encoding.EncodingSanityMiddleware": 580,
}

ITEM_PIPELINES = {
    "portalcrawl.pipelines.dates.NormalizeDatesPipeline": 100,
    "portalcrawl.pipelines.dedupe.DropDuplicatesPipeline": 200,
    "portalcrawl.pipelines.boilerplate.StripBoilerplatePipeline": 300,
    "portalcrawl.pipelines.storage.StoreArticlesPipeline": 900,
}

EXTENSIONS = {
    # One crawl_runs row per run, with counts and an ok|partial|failed|blocked outcome.
    "portalcrawl.extensions.crawl_runs.RecordCrawlRun": 500,
    # attachments rows for document links; in download/text modes also the files and their text.
    "portalcrawl.extensions.attachments.ArchiveAttachments": 600,
}

# Where the archive lives; relative paths are relative to the working directory.
PORTALCRAWL_DB_PATH = "output/portalcrawl.db"
# Directory of site profiles (<slug>.toml); empty means the profiles shipped in portalcrawl/sites/.
PORTALCRAWL_SITES_DIR = ""
# Storage flushes buffered articles when this many are waiting ...
PORTALCRAWL_FLUSH_ITEMS = 100
# ... or when the oldest has waited this many seconds, so a kill -9 loses at most this much.
PORTALCRAWL_FLUSH_SECONDS = 2.0
# Listing pages followed per start URL when neither the profile nor -a max_pages says otherwise.
PORTALCRAWL_MAX_PAGES = 200
# Time zone for dates shown without one, when the profile does not name one.
PORTALCRAWL_TIMEZONE = "Asia/Shanghai"
# Blocked answers (WAF walls, rate-limit storms) from one host after which the run stops requesting it.
PORTALCRAWL_BLOCK_THRESHOLD = 3
# Longest Retry-After (seconds) a 429/503 may pause a host for; servers sometimes ask for hours.
PORTALCRAWL_MAX_RETRY_AFTER = 120
# Longest robots.txt Crawl-delay (seconds) applied; a larger one is capped and logged.
PORTALCRAWL_MAX_CRAWL_DELAY = 60

# What to do with articles' document links: off | links (rows in `attachments`) | download (also the
# files, under <db stem>.files/) | text (also their text, searchable). A profile's `attachments` key
# overrides this default; -s/--attachments on the command line override the profile.
PORTALCRAWL_ATTACHMENTS = "links"
# Largest attachment downloaded; a larger one is recorded as too_large.
PORTALCRAWL_ATTACHMENT_MAX_BYTES = 50 * 1024 * 1024
# Seconds one attachment download may take.
PORTALCRAWL_ATTACHMENT_TIMEOUT = 180
# Attachment bytes one run downloads at most (plus one file at most); the files left are recorded as
# over_budget, the run ends partial, and the next run fetches them first.
PORTALCRAWL_ATTACHMENT_BUDGET = 2 * 1024 * 1024 * 1024
# Address-space limit of the text-extraction worker process (bytes).
PORTALCRAWL_EXTRACT_MEMORY = 1024 * 1024 * 1024
# Seconds the worker may spend on one file before it is killed (status timeout).
PORTALCRAWL_EXTRACT_TIMEOUT = 60
# Pages and characters of text kept from one file (the rest: status too_large).
PORTALCRAWL_EXTRACT_MAX_PAGES = 2000
PORTALCRAWL_EXTRACT_MAX_CHARS = 5_000_000
# `attachments extract --ocr`: seconds of OCR one scanned file may take (the pages read by then are
# kept, status timeout) ...
PORTALCRAWL_OCR_TIMEOUT = 600
# ... and the pages of one file it reads (about 3 s a page at 300 dpi on one core).
PORTALCRAWL_OCR_MAX_PAGES = 100
# Raw pages kept in the archive as served: all (articles and listing pages), articles, or off.
PORTALCRAWL_KEEP_PAGES = "all"
# HTTP(S) through one gate per host for the whole process (every site of a `portalcrawl crawl`): at
# most CONCURRENT_REQUESTS_PER_DOMAIN in flight, starts DOWNLOAD_DELAY (or robots Crawl-delay) apart.
DOWNLOAD_HANDLERS = {
    "http": "portalcrawl.host_gate.GatedHTTPDownloadHandler",
    "https": "portalcrawl.host_gate.GatedHTTPDownloadHandler",
}
# False lets Scrapy's per-crawler slots alone pace requests (what the gate replaces; for comparison).
PORTALCRAWL_HOST_GATE = True
# Sites `portalcrawl crawl` runs at once (--jobs); the others wait their turn.
PORTALCRAWL_JOBS = 16
# Article requests a site may queue before its listings stop paging until the queue drains (each
# queued request costs ~3 KB; 5,000 links a page × 200 pages would be gigabytes). Links beyond it wait.
PORTALCRAWL_MAX_QUEUED_ARTICLES = 2000
# The run budget: a site's crawl stops after this many seconds (`portalcrawl crawl --max-time`), as
# `partial` with reason closespider_timeout, so a server answering just under DOWNLOAD_TIMEOUT cannot
# hold the run and the lock for days.
CLOSESPIDER_TIMEOUT = 6 * 3600
# The memory guard checks the process's peak memory every MEMUSAGE_CHECK_INTERVAL_SECONDS (60) ...
MEMUSAGE_ENABLED = True
# ... and stops a crawl past this many MiB as `partial` with reason memusage_exceeded ...
MEMUSAGE_LIMIT_MB = 2048
# ... after logging a warning at this many.
MEMUSAGE_WARNING_MB = 1024
