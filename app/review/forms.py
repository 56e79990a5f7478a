"""Forms of the review decisions (input shape only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

#: Both forms sit on one page; prefixes keep their fields' names and ids apart.
APPROVE_PREFIX = "approve"
RETURN_PREFIX = "return"


class ApproveForm(FlaskForm):
    comment = TextAreaField(
        _l("Comment for the author"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Optional."),
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Approve and publish"))

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("prefix", APPROVE_PREFIX)
        super().__init__(*args, **kwargs)


class ReturnForm(FlaskForm):
    comment = TextAreaField(
        _l("What the author must change"),
        validators=[
            DataRequired(message=_l("Tell the author what to change before returning the course.")),
            Length(max=2000),
        ],
        description=_l("Required. The author sees this on the course page."),
        render_kw={"rows": 5},
    )
    submit = SubmitField(_l("Return to the author"))

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("prefix", RETURN_PREFIX)
        super().__init__(*args, **kwargs)
