"""Schedules as text: what they say, how they fail to parse."""

import pytest

from visualizer.engine.scheduler import Schedule, ScheduleError


def test_text_is_run_length_encoded_and_reads_back():
    schedule = Schedule("instruction", "free", ("a-1", "a-1", "a-1", "b-2", "a-1"))
    assert schedule.text() == "instruction/free: a-1*3 b-2 a-1"
    assert Schedule.parse(schedule.text()) == schedule


def test_comments_and_wrapped_lines_are_allowed_and_the_model_defaults():
    text = "# the lost update\nline:\n  clerk-1*2  # first clerk reads\n  clerk-2\n"
    assert Schedule.parse(text, default_model="gil") == Schedule(
        "line", "gil", ("clerk-1", "clerk-1", "clerk-2")
    )


def test_an_empty_body_is_the_default_order():
    schedule = Schedule.parse("sync/gil:")
    assert schedule.steps == () and schedule.text() == "sync/gil: (default order)"
    assert Schedule.parse(schedule.text()) == schedule


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("worker-1 worker-2", "starts with its granularity"),
        ("byte: a", "granularity 'byte': must be one of instruction, line, sync"),
        ("line/nogil: a", "model 'nogil': must be one of gil, free"),
        ("line: a b*0", "part 2 'b\\*0': the count after '\\*' must be a whole number >= 1"),
        ("line: a b*x", "part 2 'b\\*x'"),
        ("line: 1abc", "part 1 '1abc': '1abc' is not a thread name"),
        ("line: a*99999999", "more than 1000000 steps"),
    ],
)
def test_malformed_texts_say_where_and_why(text, message):
    with pytest.raises(ScheduleError, match=message):
        Schedule.parse(text)
