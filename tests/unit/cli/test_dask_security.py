"""The LocalCluster of `--engine dask` speaks TLS with a certificate only this process holds:
a plain TCP client, or a TLS client without that certificate, cannot connect (no other local
user can run code in its workers), while our own client scores through it."""

from __future__ import annotations

import pytest
from distributed import Client
from distributed.security import Security

from scalepredict.inference.cluster import dask_client


def _add(a: int, b: int) -> int:
    return a + b


def test_our_cluster_refuses_clients_without_its_certificate():
    with dask_client(None, 1) as client:
        address = client.scheduler.address
        assert address.startswith("tls://")
        assert client.submit(_add, 40, 2).result() == 42
        with pytest.raises(OSError):
            Client(address.replace("tls://", "tcp://"), timeout="3s")
        with pytest.raises((OSError, TypeError, ValueError)):
            Client(address, timeout="3s")  # TLS, but without any certificate
        with pytest.raises(OSError):  # a certificate of its own: not the cluster's
            Client(address, security=Security.temporary(), timeout="3s")
