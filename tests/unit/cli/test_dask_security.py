"""The LocalCluster of `--engine dask` speaks TLS with a certificate only this process holds:
a plain TCP peer, or a TLS peer without that certificate, cannot complete a connection (no
other local user can run code in its workers), while our own client scores through it."""

from __future__ import annotations

import asyncio

import pytest
from distributed.comm import connect
from distributed.security import Security

from scalepredict.inference.cluster import dask_client


def _add(a: int, b: int) -> int:
    return a + b


async def _handshake(address: str, **connection_args) -> None:
    """A comm connection and a message answered, as a client's first step is (no Client
    object: a refused Client's finaliser can deadlock the next one's event-loop thread)."""
    comm = await connect(address, timeout="3s", **connection_args)
    try:
        await comm.write({"op": "identity"})
        await asyncio.wait_for(comm.read(), 3)
    finally:
        comm.abort()


def test_our_cluster_refuses_clients_without_its_certificate():
    with dask_client(None, 1) as client:
        address = client.scheduler.address
        assert address.startswith("tls://")
        assert client.submit(_add, 40, 2).result() == 42
        with pytest.raises((OSError, asyncio.TimeoutError)):
            asyncio.run(_handshake(address.replace("tls://", "tcp://")))
        with pytest.raises((OSError, TypeError, ValueError, asyncio.TimeoutError)):
            asyncio.run(_handshake(address))  # TLS, but without any certificate
        other = Security.temporary().get_connection_args("client")
        with pytest.raises((OSError, asyncio.TimeoutError)):  # its own certificate
            asyncio.run(_handshake(address, **other))
