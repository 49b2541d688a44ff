"""The team stream as a channel (adapter): StreamSender appends the alert's summary to the team's event stream
(services.notify.ports.StreamStore) and wakes the connected SSE streams of this process."""

from services.notify.domain.attempts import AttemptOutcome, stream_summary
from services.notify.domain.routing import Channel
from services.notify.ports import StreamStore, Wakeup


class StreamSender:
    """The ChannelSender of team streams: one event per alert and team (a retry finds it numbered already)."""

    def __init__(self, streams: StreamStore, wake: Wakeup) -> None:
        self.streams = streams
        self.wake = wake

    async def send(self, delivery: dict, alert: dict, channel: Channel) -> AttemptOutcome:
        await self.streams.append_stream_event(delivery["team_id"], "alert", stream_summary(alert),
                                               f"alert:{alert['_id']}")
        self.wake.set()
        return AttemptOutcome(True, "appended to the team stream")
