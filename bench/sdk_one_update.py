"""One incident update with DevRev's Python SDK (devrev-python-sdk), as an operator would script it.

The SDK accepts only https:// base URLs; the benchmark's sandbox is plain HTTP on loopback, so the
validated configuration is copied with the loopback URL (no other change to the SDK's behaviour)."""
import os

from devrev import DevRevClient
from devrev.config import APIVersion, DevRevConfig

# Incidents are a beta API: the SDK refuses them without api_version=BETA.
config = DevRevConfig(api_token=os.environ["DEVREV_TOKEN"], base_url="https://api.devrev.ai", api_version=APIVersion.BETA)
config = config.model_copy(update={"base_url": os.environ["DEVREV_BASE_URL"]})
client = DevRevClient(config=config)
client.incidents.update("INC-1", title="Checkout returns 502 for EU customers (benchmarked)")
