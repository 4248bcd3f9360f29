"""Amazon (Selling Partner API) adapter: Listings Items for small changes, JSON_LISTINGS_FEED for
large ones, Login with Amazon for auth; Amazon.in (A21TJRUUN4KGV) by default."""
