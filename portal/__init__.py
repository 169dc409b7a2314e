"""The biller portal: server-rendered pages for biller staff under /portal/.

Every page names its biller by BID in the URL and goes through
`portal_biller(user, bid)`, which answers 404 (never 403, so that BIDs cannot be
probed) when the user is not a member of that biller.
"""
