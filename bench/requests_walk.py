"""Walks every incident page by page with requests.Session and json, the Python an operator would
write; prints the count and the median time the server took to answer a page, in milliseconds.
With a directory as its argument, it also saves each page's bytes there (page-1.json, ...), for
bench/walk-cjson.lua."""
import os
import statistics
import sys
import time

import requests

save_to = sys.argv[1] if len(sys.argv) > 1 else None

base = os.environ["DEVREV_BASE_URL"]
session = requests.Session()
session.headers.update({"Authorization": "Bearer " + os.environ["DEVREV_TOKEN"]})
count, cursor, pages = 0, None, []
while True:
    body = {"limit": 100}
    if cursor:
        body["cursor"] = cursor
    start = time.perf_counter()
    response = session.post(base + "/incidents.list", json=body)
    pages.append(time.perf_counter() - start)
    response.raise_for_status()
    if save_to:
        with open(os.path.join(save_to, f"page-{len(pages)}.json"), "wb") as handle:
            handle.write(response.content)
    page = response.json()
    count += len(page["incidents"])
    cursor = page.get("next_cursor")
    if not cursor:
        break
print(count, f"{statistics.median(pages) * 1000:.1f}")
