"""The VM tier: the project's tests on a real Debian 12 kernel under qemu.

The build machines' kernel has no ESP and no XFRM interfaces; this tier
boots Debian's own kernel under qemu (TCG) on a root file system built with
mmdebstrap and cached, and runs a job script inside it:

    python -m tests.vm build                 # build or reuse the image
    python -m tests.vm run tests/vm/jobs/smoke.sh
    make test-vm                             # host setup, image, smoke job

recipe.py says what the image holds, build.py builds it (cache.py, kernel.py,
guest/), runner.py runs a job (qemu.py, console.py). See
../shared/notes/vm-facts.md for what is known to work on these machines.
"""
