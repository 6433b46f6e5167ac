"""What the API answers about actions that wait for the person's confirmation."""

from __future__ import annotations

from marshmallow import Schema, fields

from plugin.api.fields import UtcDateTime
from plugin.confirmations.models import PendingAction
from plugin.confirmations.services import api_status


class PendingConfirmationSchema(Schema):
    status = fields.String(
        required=True,
        metadata={"enum": ["pending_confirmation"], "description": "Always pending_confirmation."},
    )
    action_id = fields.String(required=True, metadata={"description": "Id for getActionStatus."})
    summary = fields.String(required=True, metadata={"description": "What will happen, in words."})
    confirm_url = fields.String(
        required=True,
        metadata={
            "description": "Give this link to the person: nothing happens until they confirm there."
        },
    )
    status_url = fields.String(
        required=True, metadata={"description": "Where to read the outcome."}
    )
    expires_at = UtcDateTime(
        required=True, metadata={"description": "After this the link no longer works."}
    )
    message = fields.String(required=True, metadata={"description": "What to tell the person."})


class ActionStatusSchema(Schema):
    action_id = fields.String(required=True, attribute="public_id")
    status = fields.Method(
        "get_status",
        required=True,
        metadata={
            "type": "string",
            "enum": ["pending_confirmation", "confirmed", "cancelled", "expired", "failed"],
            "description": "Where the action stands.",
        },
    )
    operation = fields.String(required=True)
    summary = fields.String(required=True)
    expires_at = UtcDateTime(required=True)
    decided_at = UtcDateTime(allow_none=True)
    result = fields.Dict(
        allow_none=True, metadata={"description": "What the action did, once confirmed."}
    )

    def get_status(self, action: PendingAction) -> str:
        return api_status(action)
