# llm-tools build configuration; edit or override on the make command line.

VERSION = 0.1.0

PREFIX = /usr/local
BINDIR = $(PREFIX)/bin
DATADIR = $(PREFIX)/share
MANPREFIX = $(PREFIX)/share/man
BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR = $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR = $(PREFIX)/share/fish/vendor_completions.d

CC = cc
CPPFLAGS = -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -DVERSION=\"$(VERSION)\"
CFLAGS = -std=c99 -O2 -g -pipe -Wall -Wextra -Wstrict-prototypes \
	-Wmissing-prototypes -Wshadow -Wpointer-arith -Wformat=2
LDFLAGS =

# Debian 12: libjq 1.6 ships no pkg-config file.
JQ_LIBS = -ljq -lm
CURL_LIBS = -lcurl
SODIUM_LIBS = -lsodium

# make DEV=1 turns warnings into errors; make SANITIZE=address,undefined
# builds everything instrumented.
DEV =
SANITIZE =
