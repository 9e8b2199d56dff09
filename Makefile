# dvsum-vpn: the customer end of DvSum's AWS Site-to-Site VPN.
# Run as root on Debian 12.  `make demo` and `make test` install what they
# need first (packaging/dev-setup.sh).

PY      := .venv/bin/python
PYTEST  := $(PY) -m pytest -W error

.PHONY: setup demo demo-down test test-unit test-lab lint bench clean test-vm fuzz \
	deb rpm test-package

setup:
	./packaging/dev-setup.sh

demo: setup
	$(PY) -m tests.lab.demo

demo-down:
	$(PY) -m tests.lab.demo --down

test: setup
	$(PYTEST) tests -q

test-unit: setup
	$(PYTEST) tests/unit -q

test-lab: setup
	$(PYTEST) tests/lab -q

lint: setup
	$(PY) -m ruff check agent tests
	$(PY) -m ruff format --check agent tests
	$(PY) -m mypy agent

clean:
	rm -rf .venv build *.egg-info .pytest_cache .mypy_cache .ruff_cache

# BENCH_TRIALS=3 for a quicker look; the failover bench takes ~30 min at 10.
BENCH_TRIALS ?= 10
bench: setup
	$(PY) -m tests.bench.bench_up --trials $(BENCH_TRIALS)
	$(PY) -m tests.bench.bench_failover --trials $(BENCH_TRIALS)
	$(PY) -m tests.bench.bench_check --trials $(BENCH_TRIALS)

# The VM tier (tests/vm): Debian's own kernel under qemu (TCG), with kernel
# ESP and XFRM interfaces.  Builds the image or reuses the cached one, then
# runs the smoke job inside a fresh VM.
test-vm:
	./tests/vm/host-setup.sh
	python3 -m tests.vm run tests/vm/jobs/smoke.sh

# Mutated files through every parser; fails on any exception but InputError.
# Not part of `make test`: about 9 minutes on two cores (800 000 files).
FUZZ_COUNT ?= 100000
fuzz: setup
	$(PY) -m tests.fuzz --count $(FUZZ_COUNT)

# Packages (packaging/): build/packages/dvsum-vpn_*.deb and dvsum-vpn-*.rpm.
# The vici wheel Debian 12 lacks is fetched once (hash-pinned) into
# build/vendor; the package builds themselves need no network.
# `make deb DEB_VERSION=0.1.0-2` builds the same source as a newer version.
PKG_OUT     ?= build/packages
VENDOR      := build/vendor
DEB_VERSION ?=

deb:
	./packaging/build-setup.sh
	./packaging/fetch-vendor.sh $(VENDOR)
	./packaging/build-deb.sh $(PKG_OUT) $(VENDOR) $(DEB_VERSION)

rpm:
	./packaging/build-setup.sh
	./packaging/fetch-vendor.sh $(VENDOR)
	./packaging/build-rpm.sh $(PKG_OUT) $(VENDOR)

# The package tier: both packages, lintian and rpmlint, then the .deb
# installed, configured, upgraded and purged in the VM
# (tests/vm/jobs/package.sh).
test-package:
	./packaging/test-package.sh
