# llm-tools: see README.md. GNU make.

include config.mk

TOOLS = llm-resolve llm-keys llm-send llm-stream llm-cache llm-embed
BIN = $(TOOLS:%=bin/%)

LIBSRC = $(sort $(wildcard lib/*.c))
LIBOBJ = $(LIBSRC:%.c=obj/%.o) obj/catalog_data.o
LIB = obj/libllm.a
GENSRC = tools/catalog-gen.c lib/schema.c lib/json.c lib/fsutil.c \
	lib/errbuf.c lib/xalloc.c lib/buf.c lib/utf8.c

UNITSRC = $(sort $(wildcard tests/unit/*.c))
UNITBIN = $(UNITSRC:tests/unit/%.c=obj/tests/%)
FUZZSRC = $(sort $(wildcard tests/fuzz/*.c))
FUZZBIN = $(FUZZSRC:tests/fuzz/%.c=obj/fuzz/%)
MOCK = tests/mock/mockprov

MAN1 = $(sort $(wildcard man/*.1))
MAN5 = $(sort $(wildcard man/*.5))
MAN7 = $(sort $(wildcard man/*.7))

# Which libraries each tool links: a tool that never talks HTTP does not
# pay for loading libcurl and its dependencies at every exec.
LIBS_llm-resolve = $(JQ_LIBS) $(SODIUM_LIBS)
LIBS_llm-keys = $(JQ_LIBS) $(SODIUM_LIBS)
LIBS_llm-send = $(JQ_LIBS) $(CURL_LIBS) $(SODIUM_LIBS)
LIBS_llm-stream = $(JQ_LIBS) $(CURL_LIBS) $(SODIUM_LIBS)
LIBS_llm-embed = $(JQ_LIBS) $(CURL_LIBS) $(SODIUM_LIBS) -lpthread
LIBS_llm-cache = $(JQ_LIBS) $(SODIUM_LIBS)
TESTLIBS = $(JQ_LIBS) $(SODIUM_LIBS)

ifneq ($(DEV),)
CFLAGS += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif
ALL_CFLAGS = $(CPPFLAGS) -Ilib -Iobj $(CFLAGS)

all: $(BIN)

# Rebuild everything when the flags change (e.g. a SANITIZE build after a
# plain one): every object depends on this stamp.
obj/.flags: FORCE
	@mkdir -p obj
	@echo '$(CC) $(ALL_CFLAGS) $(LDFLAGS)' | cmp -s - $@ || \
	    echo '$(CC) $(ALL_CFLAGS) $(LDFLAGS)' > $@

obj/%.o: %.c obj/.flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The catalog is data; the generator validates it and compiles it in, one
# string per provider, so a lone binary works and a lookup parses only the
# provider it needs.
obj/catalog-gen: $(GENSRC) obj/.flags
	@mkdir -p obj
	$(CC) $(CPPFLAGS) -Ilib $(CFLAGS) $(LDFLAGS) -o $@ $(GENSRC) $(JQ_LIBS)

obj/catalog_data.c: share/llm/catalog.json obj/catalog-gen
	obj/catalog-gen share/llm/catalog.json > $@.tmp && mv $@.tmp $@

obj/catalog_data.o: obj/catalog_data.c obj/.flags
	$(CC) $(ALL_CFLAGS) -c -o $@ obj/catalog_data.c

$(LIB): $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

bin/%: obj/cmd/%.o $(LIB)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LIBS_$*)

obj/tests/%: tests/unit/%.c $(LIB) obj/.flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(TESTLIBS)

obj/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.h $(LIB) obj/.flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(TESTLIBS)

$(MOCK): tests/mock/mockprov.c obj/.flags
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ tests/mock/mockprov.c $(JQ_LIBS)

check: all $(UNITBIN) $(FUZZBIN) $(MOCK)
	@sh tests/run

conformance: all $(MOCK)
	@sh tests/run tests/conformance-*.t

# libFuzzer builds of the same targets (clang); the plain replay drivers
# above run the corpora in make check.
fuzz:
	@sh tests/fuzz/build-libfuzzer

bench: all
	@sh bench/run

lint:
	mandoc -Tlint -W warning $(MAN1) $(MAN5) $(MAN7)
	shellcheck -s sh -x tests/run tests/*.t tests/lib.sh bench/*.sh .ci/run
	shellcheck -s bash completions/bash/*

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/llm \
	    $(DESTDIR)$(MANPREFIX)/man1 $(DESTDIR)$(MANPREFIX)/man5 \
	    $(DESTDIR)$(MANPREFIX)/man7 $(DESTDIR)$(BASHCOMPDIR) \
	    $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	cp -f $(BIN) $(DESTDIR)$(BINDIR)/
	cp -f share/llm/catalog.json $(DESTDIR)$(DATADIR)/llm/
	cp -f $(MAN1) $(DESTDIR)$(MANPREFIX)/man1/
	cp -f $(MAN5) $(DESTDIR)$(MANPREFIX)/man5/
	cp -f $(MAN7) $(DESTDIR)$(MANPREFIX)/man7/
	for t in $(TOOLS); do \
	    cp -f completions/bash/$$t $(DESTDIR)$(BASHCOMPDIR)/$$t; \
	    cp -f completions/zsh/_$$t $(DESTDIR)$(ZSHCOMPDIR)/_$$t; \
	    cp -f completions/fish/$$t.fish $(DESTDIR)$(FISHCOMPDIR)/$$t.fish; \
	done

uninstall:
	for t in $(TOOLS); do \
	    rm -f $(DESTDIR)$(BINDIR)/$$t $(DESTDIR)$(BASHCOMPDIR)/$$t \
	        $(DESTDIR)$(ZSHCOMPDIR)/_$$t $(DESTDIR)$(FISHCOMPDIR)/$$t.fish; \
	done
	rm -f $(DESTDIR)$(DATADIR)/llm/catalog.json
	-rmdir $(DESTDIR)$(DATADIR)/llm
	for m in $(MAN1); do rm -f $(DESTDIR)$(MANPREFIX)/man1/$${m#man/}; done
	for m in $(MAN5); do rm -f $(DESTDIR)$(MANPREFIX)/man5/$${m#man/}; done
	for m in $(MAN7); do rm -f $(DESTDIR)$(MANPREFIX)/man7/$${m#man/}; done

clean:
	rm -rf bin obj $(MOCK)

FORCE:
.PHONY: all check conformance fuzz bench lint install uninstall clean FORCE
.SECONDARY:
.DELETE_ON_ERROR:

-include $(shell find obj -name '*.d' 2>/dev/null)
