import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')   # tests never reach a hub
import pytest

def pytest_addoption(parser):
    parser.addoption('--slow', action='store_true', help="also run the tests marked slow (minutes each)")

def pytest_configure(config):
    config.addinivalue_line('markers', "slow: a test of minutes, run with --slow (or STITCHBOOK_SLOW=1)")

def pytest_collection_modifyitems(config, items):
    if config.getoption('--slow') or os.environ.get('STITCHBOOK_SLOW'): return
    skip = pytest.mark.skip(reason="slow: run with --slow")
    for item in items:
        if 'slow' in item.keywords: item.add_marker(skip)
