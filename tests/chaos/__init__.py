"""Chaos testing of the edge ⇄ cloud sync (issue #18, item 14): a nemesis of our own.

- `mqtt_frames`: MQTT fixed-header framing, so faults act on whole frames;
- `proxy`: an asyncio TCP proxy between the edge agent and Mosquitto that drops,
  duplicates, reorders, delays, fragments, black-holes, swallows and resets frames;
- `schedule`: a seeded, replayable fault schedule (and the kinds known to break today);
- `stack`: the system under test — broker, proxy, edge agent and cloud consumer processes;
- `load`: the kiosk load generator and the history of what the edge committed;
- `invariants`: the checks of /shared/domain/sync-faults.md after a run;
- `nemesis`: runs a schedule against the stack while the load runs, then checks.
"""
