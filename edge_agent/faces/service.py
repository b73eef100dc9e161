"""Faces as the agent runs them (ADR 0047): the pipeline runs only while the appliance
may run faces (`faces_enabled`, an engine installed) **and** the site has switched face
use on (`site.faces` from the cloud; off until then). The service looks at the site's
switch every few seconds: switched on, it loads the engine and the gallery; switched off,
it drops the pipeline and the templates it held, and matching stops. Tracks come from
the readers' threads — once when embedded (matched and recorded at once: the sighting
reaches the outbox within a second of the frame) and once when finished (the sighting's
last seen moves) — and are recorded on the event loop, in that order. The retention job
runs once a day."""

from __future__ import annotations

import asyncio
import concurrent.futures
import uuid
from collections.abc import Coroutine
from datetime import datetime, timedelta
from pathlib import Path

import structlog

from edge_agent.faces import engines, erasure, records, sightings
from edge_agent.faces.engine import Embedding, EngineUnavailable, FaceEngine, Frame
from edge_agent.faces.matching import MATCH_SIMILARITY, Gallery
from edge_agent.faces.pipeline import FacePipeline
from edge_agent.faces.tracking import LOST_AFTER, Track
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store
from shared.aio import wait_event
from shared.timeutil import utcnow

log = structlog.get_logger()
RETENTION_EVERY = timedelta(days=1)


def load_engine(settings: EdgeSettings) -> FaceEngine | None:
    """None when this appliance does not run faces, or when the engine cannot load
    (logged: the cameras' capture and health go on without it)."""
    if not settings.faces_enabled:
        return None
    try:
        engine = engines.build(
            settings.face_engine,
            model_pack=Path(settings.face_model_pack) if settings.face_model_pack else None,
            assets_dir=Path(settings.face_assets_dir))
    except EngineUnavailable as exc:
        log.error("face_engine_unavailable", engine=settings.face_engine, reason=str(exc))
        return None
    log.info("face_engine_loaded", engine=engine.name)
    return engine


class FaceService:
    def __init__(self, settings: EdgeSettings, store: Store, *, check_seconds: float = 5.0,
                 lost_after: timedelta | None = None, engine: FaceEngine | None = None
                 ) -> None:
        self.settings = settings
        self.store = store
        self.check_seconds = check_seconds
        self.lost_after = lost_after or LOST_AFTER
        self.pipeline: FacePipeline | None = None
        self.gallery: Gallery | None = None
        self.crop_days = 0
        # An engine already loaded (the tests share one), else loaded at the first switch-on.
        self._engine: FaceEngine | None = engine
        self._engine_tried = engine is not None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._retention_at: datetime | None = None
        self._in_flight: set[concurrent.futures.Future[None]] = set()
        # Tracks recorded when embedded, until they finish (camera, track id) → what
        # they became; and the order in which the readers told us about them.
        self._open: dict[tuple[str, int], sightings.Recorded] = {}
        self._order = asyncio.Lock()
        kiosk = settings.face_kiosk_camera_id
        self.kiosk_camera = uuid.UUID(kiosk) if kiosk else None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self.refresh()
        self._task = asyncio.create_task(self._run(), name="faces")

    async def stop(self) -> None:
        """After the readers stopped: the tracks they finished are recorded first."""
        self._stopping.set()
        if self._task is not None:
            await self._task
        if self._in_flight:
            await asyncio.wait([asyncio.wrap_future(f) for f in list(self._in_flight)])
        self.pipeline = self.gallery = None

    async def _run(self) -> None:
        while not await wait_event(self._stopping, self.check_seconds):
            try:
                await self.refresh()
            except Exception:  # the next check tries again
                log.exception("faces_check_failed")

    async def refresh(self) -> None:
        """Follow the site's switch; run the retention job when it is due."""
        site = await self.store.read(records.site_settings)
        self.crop_days = site.crop_retention_days if site.enabled else 0
        if site.enabled and self.settings.faces_enabled and self.pipeline is None:
            await self._switch_on()
        elif not site.enabled and self.pipeline is not None:
            self.pipeline = self.gallery = None  # matching stops; templates leave memory
            self._open.clear()
            log.info("faces_switched_off")
        if self.pipeline is not None:
            self.pipeline.keep_crops = self.crop_days > 0
        if self.gallery is not None:  # erased meanwhile (the cloud's request, a withdrawal)
            gone = set(self.gallery.kinds) - await self.store.read(records.person_ids)
            if gone:
                self.gallery.remove(gone)
        now = utcnow()
        if self._retention_at is None or now - self._retention_at >= RETENTION_EVERY:
            await self.run_retention(now)
            self._retention_at = now

    async def _switch_on(self) -> None:
        if not self._engine_tried:  # a model load takes a second or two: off the loop
            self._engine = await asyncio.to_thread(load_engine, self.settings)
            self._engine_tried = True
        engine = self._engine
        if engine is None:
            return
        threshold = self.settings.face_match_threshold or MATCH_SIMILARITY[engine.name]
        gallery = Gallery(threshold, engine.embedding_size)
        gallery.load(await self.store.write(
            records.load_templates, self.settings.cipher, engine.name, now=utcnow()))
        self.gallery = gallery
        self._open.clear()
        self.pipeline = FacePipeline(engine, self._finished, on_embedded=self._embedded,
                                     lost_after=self.lost_after)
        log.info("faces_switched_on", engine=engine.name, identities=len(gallery))

    async def run_retention(self, now: datetime) -> list[uuid.UUID]:
        erased = await self.store.write(erasure.apply_retention, self.settings.cipher, now)
        self.forget(erased)
        if erased:
            self.store.outbox_committed()
            log.info("face_retention_erased", identities=len(erased))
        return erased

    def forget(self, person_ids: list[uuid.UUID]) -> None:
        if self.gallery is not None and person_ids:
            self.gallery.remove(set(person_ids))

    # The capture readers' callbacks (their threads).
    def on_frame(self, camera_id: str, frame: Frame, at: datetime) -> None:
        pipeline = self.pipeline
        if pipeline is not None:
            pipeline.process(camera_id, frame, at)

    def on_idle(self, camera_id: str, at: datetime) -> None:
        pipeline = self.pipeline
        if pipeline is not None:
            pipeline.idle(camera_id, at)

    def on_stopped(self, camera_id: str) -> None:
        pipeline = self.pipeline
        if pipeline is not None:
            pipeline.close_camera(camera_id)

    def _embedded(self, track: Track) -> None:
        if track.embedding is not None:
            self._schedule(self._record_embedded((track.camera_id, track.track_id),
                                                 _seen(track, track.embedding)))

    def _finished(self, track: Track) -> None:
        self._schedule(self._record_finished(
            (track.camera_id, track.track_id),
            None if track.embedding is None else _seen(track, track.embedding)))

    def _schedule(self, work: Coroutine[None, None, None]) -> None:
        if self._loop is None:
            work.close()
            return
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        self._in_flight.add(future)
        future.add_done_callback(self._done)

    async def _record_embedded(self, key: tuple[str, int], seen: sightings.Seen) -> None:
        async with self._order:
            recorded = await self.on_track(seen)
            if recorded is not None:
                self._open[key] = recorded

    async def _record_finished(self, key: tuple[str, int], seen: sightings.Seen | None
                               ) -> None:
        async with self._order:
            recorded = self._open.pop(key, None)
            if self.gallery is None:
                return  # face use went off meanwhile: nothing more is recorded
            if recorded is None:
                if seen is not None:  # embedded before face use was switched on here
                    await self.on_track(seen)
                return
            if (recorded.sighting_id is not None and seen is not None
                    and await self.store.write(sightings.extend, self.settings.cipher,
                                               recorded.sighting_id, seen.last_seen, utcnow())):
                self.store.outbox_committed()

    def _done(self, future: concurrent.futures.Future[None]) -> None:
        self._in_flight.discard(future)
        error = None if future.cancelled() else future.exception()
        if error is not None:
            log.error("face_track_record_failed", error=repr(error))

    async def on_track(self, seen: sightings.Seen) -> sightings.Recorded | None:
        """Match and record one track; None when face use went off meanwhile."""
        for _ in range(2):
            gallery, engine = self.gallery, self._engine
            if gallery is None or engine is None:
                return None
            try:
                recorded = await self.store.write(
                    sightings.record, self.settings.cipher, gallery, seen, engine=engine.name,
                    crop_days=self.crop_days, kiosk_camera=self.kiosk_camera, now=utcnow())
            except sightings.GalleryEntryGone as gone:  # erased since the gallery loaded
                gallery.remove({gone.person_id})
                continue
            if recorded.new_template is not None:
                gallery.add(recorded.person_id, recorded.kind, recorded.new_template)
            self.store.outbox_committed()
            return recorded
        return None



def _seen(track: Track, embedding: Embedding) -> sightings.Seen:
    # Copies: the pipeline drops the track's embedding and crop once it has told us.
    return sightings.Seen(uuid.UUID(track.camera_id), track.first_seen, track.last_seen,
                          embedding.copy(), track.crop)
