# One-command entry points; each creates the virtual environment on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test run bench clean

FONT := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
MOSQUITTO := /usr/sbin/mosquitto
MOSQUITTO_SUB := /usr/bin/mosquitto_sub

$(STAMP): pyproject.toml $(FONT) $(MOSQUITTO) $(MOSQUITTO_SUB)
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# (the one warning filtered is setuptools' note that an editable install links here)
	PYTHONWARNINGS=ignore::UserWarning:setuptools.command.editable_wheel \
		$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The CJK font LED-board glyphs are rendered from at provisioning (Debian: fonts-wqy-zenhei).
$(FONT):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y -qq fonts-wqy-zenhei >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq fonts-wqy-zenhei >/dev/null; }; \
	else echo "make: install the font first: sudo apt-get install fonts-wqy-zenhei" >&2; exit 1; fi

# The MQTT tests run against a real broker (Debian: mosquitto).
$(MOSQUITTO):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y -qq mosquitto >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq mosquitto >/dev/null; }; \
	else echo "make: install the broker first: sudo apt-get install mosquitto" >&2; exit 1; fi

# The README's mosquitto_sub, to watch a hall's messages (Debian: mosquitto-clients).
$(MOSQUITTO_SUB):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y -qq mosquitto-clients >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq mosquitto-clients >/dev/null; }; \
	else echo "make: install the clients first: sudo apt-get install mosquitto-clients" >&2; exit 1; fi

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

run: $(STAMP)
	$(VENV)/bin/hallsim run

bench: $(STAMP)
	$(PY) tools/bench.py protocol

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
