"""JSON transcoding of event state that also accepts subclasses of registered types.

The library looks transcodings up by exact type; freezegun's FakeDatetime (a datetime
subclass) would then fail to serialise in tests. Looking up along the MRO fixes that without
touching production behaviour.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError


class MroJSONTranscoder(JSONTranscoder):
    def _encode_obj(self, o: Any) -> dict[str, Any]:
        for cls in type(o).__mro__:
            transcoding = self.types.get(cls)
            if transcoding is not None:
                return {"_type_": transcoding.name, "_data_": transcoding.encode(o)}
        raise TranscodingNotRegisteredError(f"Object of type {type(o)} is not serializable")
