"""ShardedPool: small httpx clients per origin, least busy first, made on demand."""

from __future__ import annotations

import asyncio

import httpx

from infrastructure.http_pools import ShardedPool


def pool_of(connections: int, shard_size: int) -> tuple[ShardedPool, list[int]]:
    made: list[int] = []

    def make(size: int) -> httpx.AsyncClient:
        made.append(size)
        return httpx.AsyncClient(transport=httpx.MockTransport(lambda _r: httpx.Response(200)))

    return ShardedPool(make, connections, shard_size), made


def test_one_request_at_a_time_keeps_to_one_client() -> None:
    async def run() -> int:
        pool, _ = pool_of(64, 4)
        for _ in range(10):
            async with pool.client() as client:
                assert (await client.get("http://receiver/")).status_code == 200
        shards = pool.shards
        await pool.aclose()
        return shards

    assert asyncio.run(run()) == 1


async def hold_at_once(pool: ShardedPool, requests: int) -> int:
    """Runs `requests` that all hold a client at the same moment; returns the most that any
    one client held."""
    in_use: dict[int, int] = {}
    peak = 0
    release = asyncio.Event()

    async def request() -> None:
        nonlocal peak
        async with pool.client() as client:
            in_use[id(client)] = in_use.get(id(client), 0) + 1
            peak = max(peak, in_use[id(client)])
            await release.wait()
            in_use[id(client)] -= 1

    tasks = [asyncio.create_task(request()) for _ in range(requests)]
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(*tasks)
    return peak


def test_concurrent_requests_spread_so_that_no_client_holds_more_than_its_share() -> None:
    pool, made = pool_of(16, 4)
    assert asyncio.run(hold_at_once(pool, 16)) == 4
    assert pool.shards == 4
    assert made == [4, 4, 4, 4]
    asyncio.run(pool.aclose())


def test_more_requests_than_connections_share_the_last_clients_instead_of_making_more() -> None:
    pool, _ = pool_of(8, 4)
    asyncio.run(hold_at_once(pool, 20))
    assert pool.shards == 2
    asyncio.run(pool.aclose())


def test_a_shard_never_exceeds_the_connections_of_a_small_origin() -> None:
    pool, _ = pool_of(2, 4)
    assert (pool.shard_size, pool.max_shards) == (2, 1)
