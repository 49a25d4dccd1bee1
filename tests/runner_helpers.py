"""Runner subclasses that test configs name with ``runner_type``.

A config imports them with
``custom_imports = dict(imports=['runner_helpers'])`` (``tests/`` on
``PYTHONPATH``), to check that a tool builds the Runner the config asks for,
as mmengine's convention is.
"""
from mmengine.runner import Runner
from mmseg.registry import RUNNERS


@RUNNERS.register_module()
class AnnouncingRunner(Runner):
    """mmengine's Runner, printing ``AnnouncingRunner.<method>`` when it
    trains or tests, so that a test sees which class a tool built."""

    def train(self):
        print(f'{type(self).__name__}.train', flush=True)
        return super().train()

    def test(self):
        print(f'{type(self).__name__}.test', flush=True)
        return super().test()


@RUNNERS.register_module()
class BuildOnlyRunner(Runner):
    """Builds what mmengine's Runner builds when created (model, hooks) and
    dumps its config into the work dir, but does not train: to check on a
    CPU what a tool puts into a config that only an accelerator can train
    (``AmpOptimWrapper`` refuses to be built without one)."""

    def train(self):
        print(f'{type(self).__name__}: built, not trained', flush=True)
        return self.model
