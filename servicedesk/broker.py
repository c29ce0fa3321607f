"""The Celery broker transport for Redis, fetch-safe (servicedesk/celery.py switches it on for redis:// URLs).

With kombu's own Redis transport, a worker killed between taking a message off the queue (BRPOP) and writing it to
`unacked` (a millisecond or two per message) lost it for good, neither queued nor unacked, so nothing ever ran it
again. This transport takes each message with BRPOPLPUSH into an in-flight list of the consumer's own, atomically,
and moves it from there to `unacked` in one transaction; the restore sweep that puts back what a dead worker left
unacked also puts back what it left in flight. One queue per consumer and no message priorities (this app uses
neither); other set-ups fall back to kombu's BRPOP. It extends kombu's channel where it fetches (_brpop_start,
_brpop_read), so kombu's minor version is pinned (pyproject.toml); tests/reliability/test_kill_the_worker.py kills
workers mid-run against a real Redis and finds every task done.
"""

import logging
from time import monotonic, time

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import dumps, loads
from kombu.utils.uuid import uuid

log = logging.getLogger(__name__)

INFLIGHT_INDEX = "_kombu.inflight"  # sorted set: each consumer's in-flight list -> when that consumer last fetched


class _FetchSafeQoS(kombu_redis.QoS):
    def append(self, message, delivery_tag):
        fetched, self.channel._fetched = self.channel._fetched, None
        if fetched is None:
            return super().append(message, delivery_tag)
        inflight, item = fetched
        delivery = message.delivery_info
        with self.pipe_or_acquire() as pipe:  # a MULTI/EXEC: in `unacked` and out of the in-flight list at once
            pipe.zadd(self.unacked_index_key, {delivery_tag: time()}).hset(
                self.unacked_key, delivery_tag, dumps([message._raw, delivery["exchange"], delivery["routing_key"]])
            ).lrem(inflight, 1, item).execute()
        virtual.QoS.append(self, message, delivery_tag)

    def restore_visible(self, start=0, num=10, interval=10):
        sweeps = not self._vrestore_count % (interval or 1)  # the parent's throttle: it sweeps on this call
        super().restore_visible(start, num, interval)
        if sweeps:
            self._restore_abandoned_fetches()

    def _restore_abandoned_fetches(self):
        """Put back the messages of in-flight lists whose consumer has not fetched for longer than the visibility
        timeout (a live consumer marks its list as it sends each fetch, which waits at most brpop_timeout; its
        list is empty between fetches)."""
        channel = self.channel
        stale = time() - max(channel.visibility_timeout, (channel.brpop_timeout or 1) + 1)

        def restore_one(inflight):
            def transaction(pipe):
                raw = pipe.lindex(inflight, -1)
                pipe.multi()
                if raw is None:
                    pipe.zrem(INFLIGHT_INDEX, inflight)
                    return False
                pipe.rpop(inflight)
                payload = loads(bytes_to_str(raw))
                info = payload["properties"]["delivery_info"]
                channel._do_restore_message(payload, info["exchange"], info["routing_key"], pipe)
                return True

            return transaction

        with channel.conn_or_acquire() as client:
            try:
                with kombu_redis.Mutex(client, self.unacked_mutex_key, self.unacked_mutex_expire):
                    for inflight in client.zrange(INFLIGHT_INDEX, 0, stale, byscore=True):
                        while client.transaction(restore_one(inflight), inflight, value_from_callable=True):
                            log.warning("Restored a message a dead worker had taken from the queue: %s", inflight)
            except kombu_redis.MutexHeld:
                pass


class _FetchSafeChannel(kombu_redis.Channel):
    QoS = _FetchSafeQoS
    priority_steps = [0]
    _fetch = None  # (queue, in-flight list) of the BRPOPLPUSH sent, None for a BRPOP
    _fetched = None  # (in-flight list, raw message) being delivered, for QoS.append

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._inflight = f"{INFLIGHT_INDEX}.{uuid()}"

    def _brpop_start(self, timeout=None):
        queues = self._queue_cycle.consume(len(self.active_queues))
        if len(queues) != 1 or self.global_keyprefix or len(self.priority_steps) != 1:
            self._fetch = None
            return super()._brpop_start(timeout)
        if timeout is None:
            timeout = self.brpop_timeout
        with self.conn_or_acquire() as client:
            client.zadd(INFLIGHT_INDEX, {self._inflight: time()})
        self._fetch = (queues[0], self._inflight)
        self._in_poll = self.client.connection
        self._brpop_sent_at = monotonic()
        self.client.connection.send_command("BRPOPLPUSH", queues[0], self._inflight, timeout or 0)

    def _brpop_read(self, **options):
        if self._fetch is None:
            return super()._brpop_read(**options)
        (queue, inflight), self._fetch = self._fetch, None
        try:
            try:
                item = self.client.parse_response(self.client.connection, "BRPOPLPUSH", **options)
            except self.connection_errors:
                self.client.connection.disconnect()
                raise
            if item is None:
                raise kombu_redis.Empty()
            self._queue_cycle.rotate(queue)
            self._fetched = (inflight, item)
            try:
                self.connection._deliver(loads(bytes_to_str(item)), queue)
            except Exception:
                self._fetched = None  # left in flight: put back once this consumer is gone
                raise
            if self._fetched is not None:  # delivered without acknowledgement (no_ack): nothing to keep
                self._fetched = None
                with self.conn_or_acquire() as client:
                    client.lrem(inflight, 1, item)
            return True
        finally:
            self._in_poll = None
            self._flush_brpop_reauth()


class FetchSafeRedisTransport(kombu_redis.Transport):
    Channel = _FetchSafeChannel
