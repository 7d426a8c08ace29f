"""Walks every incident page by page with requests.Session and json, the Python an operator would
write; prints the count and the median time the server took to answer a page, in milliseconds."""
import os
import statistics
import time

import requests

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
    page = response.json()
    count += len(page["incidents"])
    cursor = page.get("next_cursor")
    if not cursor:
        break
print(count, f"{statistics.median(pages) * 1000:.1f}")
