# boards/host — the firmware as a Linux process (fast tests, fuzzing, benchmarks).
BOARD_FEATURES := uart nv clock wdt
CC := gcc
SIZE := size
BOARD_CFLAGS := -O2 -g -fPIE -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fno-common
BOARD_LDFLAGS := -pie -Wl,-z,relro,-z,now,-z,noexecstack
BOARD_LIBS :=
BOARD_SRCS := boards/host/host_bottom.c boards/host/board_host.c
FIRMWARE_NAME := signet
