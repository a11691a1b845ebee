# terraform-provider-vmax: build, test, demo.
#   make test    fmt, clippy, unit and acceptance tests (TF_ACC=1), PyU4V check
#   make demo    release build, local plugin mirror, simulator, init + apply of examples/quickstart
#   make sim     run the simulator in the foreground (state in .demo/sim)
#   make install install the provider where `terraform init` finds it offline
#   make bench   benchmarks (speed and memory targets live here, not in tests)
#   make release dist/: registry zips for linux amd64 and arm64 (glibc 2.28), SHA256SUMS,
#                a detached signature with GPG_KEY_ID=<key>
#   make release-check  the release verified: checksums, glibc, init + apply from a mirror

SHELL     := /bin/bash
CARGO     ?= cargo
TERRAFORM ?= terraform
PYTHON    ?= python3
VERSION   := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
OS_ARCH   := $(shell uname -s | tr A-Z a-z)_$(shell uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/')
DEMO_DIR  := $(CURDIR)/.demo
DEMO_PORT ?= 18443

# these machines export RUST_BACKTRACE=1; tests and scripts set their own environment
unexport RUST_BACKTRACE

.PHONY: docs test check-rust check-terraform fmt clippy unit acc pyu4v demo demo-stop sim install bench clean release release-check

check-rust:
	@command -v $(CARGO) >/dev/null 2>&1 || { echo "make: no Rust toolchain: install one with rustup (https://rustup.rs), then re-run"; exit 1; }
	@$(CARGO) fmt --version >/dev/null 2>&1 || { echo "make: rustfmt is missing: run 'rustup component add rustfmt'"; exit 1; }
	@$(CARGO) clippy --version >/dev/null 2>&1 || { echo "make: clippy is missing: run 'rustup component add clippy'"; exit 1; }

check-terraform:
	@command -v $(TERRAFORM) >/dev/null 2>&1 || { echo "make: terraform is missing: install Terraform 1.11 or later on PATH, or pass TERRAFORM=/path/to/terraform"; exit 1; }

fmt: check-rust
	$(CARGO) fmt --check

clippy: check-rust
	$(CARGO) clippy --all-targets -- -D warnings

unit: check-rust
	$(CARGO) test --lib --bins

acc: check-rust check-terraform
	TF_ACC=1 TERRAFORM="$$(command -v $(TERRAFORM))" $(CARGO) test
	@echo "acc: the volume, snapshot, export and QoS tests again, on a PowerMax 8000 (5978, no workloads, snap ids)"
	VMAX_TEST_SEED=seeds/powermax-8000.json TF_ACC=1 TERRAFORM="$$(command -v $(TERRAFORM))" \
	  $(CARGO) test --test volume_acc --test snapshot_acc --test export_acc --test qos_acc

test: fmt clippy acc pyu4v release-check

release: check-rust
	scripts/release.sh

release-check: check-rust check-terraform
	scripts/release.sh
	TERRAFORM="$$(command -v $(TERRAFORM))" scripts/release-check.sh

# The real PyU4V library against the simulator (skipped, loudly, without python3)
pyu4v: check-rust
	@if command -v $(PYTHON) >/dev/null 2>&1; then \
	  $(CARGO) build --bin vmax-sim && scripts/pyu4v-check.sh; \
	else echo "pyu4v: python3 not found; skipping the PyU4V compatibility check"; fi

# regenerate docs/ from the schema and examples/
docs: check-rust
	UPDATE_DOCS=1 $(CARGO) test --test docs

demo: check-rust check-terraform
	$(CARGO) build --release
	@mkdir -p $(DEMO_DIR)/mirror/registry.terraform.io/local/vmax/$(VERSION)/$(OS_ARCH) $(DEMO_DIR)/sim
	cp target/release/terraform-provider-vmax $(DEMO_DIR)/mirror/registry.terraform.io/local/vmax/$(VERSION)/$(OS_ARCH)/terraform-provider-vmax_v$(VERSION)
	@printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["local/vmax"]\n  }\n  direct {\n    exclude = ["local/vmax"]\n  }\n}\n' "$(DEMO_DIR)/mirror" > $(DEMO_DIR)/terraformrc
	@scripts/demo-sim.sh start "$(DEMO_DIR)" "$(DEMO_PORT)"
	rm -f examples/quickstart/.terraform.lock.hcl
	cd examples/quickstart && export TF_CLI_CONFIG_FILE=$(DEMO_DIR)/terraformrc TF_IN_AUTOMATION=1 \
	  VMAX_ENDPOINT=https://localhost:$(DEMO_PORT) VMAX_USERNAME=smc VMAX_PASSWORD=smc VMAX_ARRAY=000197800123 \
	  VMAX_CA_CERT_FILE=$(DEMO_DIR)/sim/vmax-sim-ca.pem && \
	  $(TERRAFORM) init -input=false -no-color >/dev/null && \
	  $(TERRAFORM) apply -auto-approve -input=false -no-color
	@echo
	@echo "The simulator keeps running (state: $(DEMO_DIR)/sim/state.json, https://localhost:$(DEMO_PORT))."
	@echo "To continue, in examples/quickstart with the same environment:"
	@echo "  export TF_CLI_CONFIG_FILE=$(DEMO_DIR)/terraformrc VMAX_ENDPOINT=https://localhost:$(DEMO_PORT) VMAX_USERNAME=smc VMAX_PASSWORD=smc VMAX_ARRAY=000197800123 VMAX_CA_CERT_FILE=$(DEMO_DIR)/sim/vmax-sim-ca.pem"
	@echo "  terraform plan      # no changes"
	@echo "  terraform destroy   # removes what the demo made"
	@echo "  make demo-stop      # stops the simulator"

demo-stop:
	@scripts/demo-sim.sh stop "$(DEMO_DIR)" "$(DEMO_PORT)"

sim: check-rust
	$(CARGO) run --release --bin vmax-sim -- --listen 127.0.0.1:$(DEMO_PORT) --state $(DEMO_DIR)/sim/state.json

install: check-rust
	$(CARGO) build --release
	@dir="$${HOME}/.terraform.d/plugins/registry.terraform.io/local/vmax/$(VERSION)/$(OS_ARCH)"; \
	  mkdir -p "$$dir" && cp target/release/terraform-provider-vmax "$$dir/terraform-provider-vmax_v$(VERSION)" && \
	  echo "installed into $$dir; use source = \"local/vmax\", version = \"$(VERSION)\""

bench: check-rust check-terraform
	VMAX_BENCH=1 TF_ACC=1 TERRAFORM="$$(command -v $(TERRAFORM))" \
	  $(CARGO) test --release --test bench -- --nocapture
	$(CARGO) build --release
	scripts/bench.sh

clean:
	$(CARGO) clean
	rm -rf $(DEMO_DIR) dist
