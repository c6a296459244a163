# boards/host — the firmware as a Linux process (fast tests, fuzzing, benchmarks).
BOARD_FEATURES := uart nv clock wdt eth secret
CC := gcc
SIZE := size
BOARD_CFLAGS := -O2 -g -fPIE -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fno-common \
	-DSIGNET_TEST_HOOKS=1
BOARD_LDFLAGS := -pie -Wl,-z,relro,-z,now,-z,noexecstack
BOARD_LIBS := -lslirp
BOARD_SRCS := boards/host/host_bottom.c boards/host/board_host.c boards/host/host_context.c boards/host/host_switch.S

# SANITIZE=1: the same board under ASan/UBSan (and LSan at exit), built in build/host-asan/.
ifeq ($(SANITIZE),1)
BOARD_CFLAGS := -O1 -g -fPIE -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all -fno-common -DSIGNET_TEST_HOOKS=1
BOARD_LDFLAGS := -pie -fsanitize=address,undefined
BOARD_BUILD_SUFFIX := -asan
endif
FIRMWARE_NAME := signet
