# boards/vexpress-a9 — the appliance image for QEMU's vexpress-a9 (Cortex-A9, bare metal).
BOARD_FEATURES := uart nv clock wdt eth secret
CROSS ?= arm-none-eabi-
CC := $(CROSS)gcc
SIZE := $(CROSS)size
BOARD_ARCH := -march=armv7-a -mtune=cortex-a9 -mthumb -mfloat-abi=soft
BOARD_CFLAGS := $(BOARD_ARCH) --specs=picolibc.specs -ffreestanding -fno-common \
	-ffunction-sections -fdata-sections -Os -g
BOARD_ASFLAGS := $(BOARD_ARCH)
BOARD_LDFLAGS := $(BOARD_ARCH) --specs=picolibc.specs -nostartfiles \
	-T boards/vexpress-a9/linker.ld -Wl,--gc-sections -Wl,--no-warn-rwx-segments
BOARD_LIBS := -lc -lgcc
BOARD_SRCS := $(addprefix boards/vexpress-a9/,startup.S board.c mmu.c gic.c uart_pl011.c \
	sp804.c pl031.c sp805.c pflash.c lan9118.c context.S context.c)
FIRMWARE_NAME := signet.elf
