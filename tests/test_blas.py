"""A process that serves requests runs OpenBLAS on one thread (issue 13: workers' BLAS threads
fought over the cores); other processes keep what they had."""
from __future__ import annotations

import numpy as np  # noqa: F401  (loads OpenBLAS, so threadpoolctl can see it)
from threadpoolctl import threadpool_info, threadpool_limits

from curator import blas


def _blas_threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_first_request_pins_blas_to_the_configured_threads(app, client, monkeypatch):
    monkeypatch.setattr(blas, "_pinned_in", None)
    with threadpool_limits(limits=2, user_api="blas"):  # restored after the test
        assert _blas_threads() == {2}
        client.get("/healthz")
        assert _blas_threads() == {1}
