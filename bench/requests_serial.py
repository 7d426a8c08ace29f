"""N incident updates one after the other with requests.Session, the Python an operator would write."""
import os
import sys

import requests

n = int(sys.argv[1])
base = os.environ["DEVREV_BASE_URL"]
session = requests.Session()
session.headers.update({"Authorization": "Bearer " + os.environ["DEVREV_TOKEN"]})
for i in range(1, n + 1):
    response = session.post(base + "/incidents.update", json={"id": f"INC-{i % 12 + 1}", "title": f"benchmark update {i}"})
    response.raise_for_status()
