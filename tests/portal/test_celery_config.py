"""The Celery app routes each task to exactly one named queue and keeps work
that a dying worker was holding."""

import pytest

from portal.celery import QUEUE_NAMES, app


def test_each_queue_binds_its_own_routing_key():
    keys = {queue.name: queue.routing_key for queue in app.conf.task_queues}
    assert keys == {name: name for name in QUEUE_NAMES}


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("analytics.positions_rebuild", "analytics"),
        ("compliance.evaluate_portfolio", "compliance"),
        ("reports.render_run", "reports"),
        ("reports.deliver_run", "delivery"),
        ("portal.anything_else", "default"),
    ],
)
def test_tasks_are_routed_by_name(task_name, queue):
    route = app.amqp.router.route({}, task_name, (), {})
    assert route["queue"].name == queue
    assert route["queue"].routing_key == queue


def test_work_is_not_lost_when_a_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
