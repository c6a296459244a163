# Signet — one entry point for both boards.
#
#   make [BOARD=host|vexpress-a9]   build the firmware into build/<board>/
#   make run [BOARD=...] [NAME=...] fetch dependencies, build, boot (vexpress-a9 under QEMU by
#                                   default); NAME=lic1: another appliance with its own token
#   make test                       everything: unit, host-board integration, QEMU system tests
#   make deps                       install missing Debian packages, fetch upstream sources
#   make bench                      signing rates over the HSM link; HTTPS requests and handshakes
#   make tools                      host tools: build/tools/signet-authority, build/tools/signet-client
#   make fuzz                       run the libFuzzer targets (FUZZ_SECONDS each)
#   make lint                       clang-format check and cppcheck on our code
#   make BOARD=host SANITIZE=1      the host board under ASan/UBSan (build/host-asan/)
#   make V=1 ...                    show the commands
.DEFAULT_GOAL := all

BOARDS := host vexpress-a9
BOARD ?= vexpress-a9
ifeq ($(filter $(BOARD),$(BOARDS)),)
$(error unknown BOARD '$(BOARD)'; choose one of: $(BOARDS))
endif
include boards/$(BOARD)/board.mk

# Every board must provide the peripheral classes the firmware uses; stop early if one does not.
REQUIRED_FEATURES := uart nv clock wdt secret
MISSING_FEATURES := $(filter-out $(BOARD_FEATURES),$(REQUIRED_FEATURES))
ifneq ($(MISSING_FEATURES),)
$(error board '$(BOARD)' lacks: $(MISSING_FEATURES))
endif

V ?= 0
Q := $(if $(filter 1,$(V)),,@)
say = $(if $(filter 1,$(V)),,@printf '  %-6s %s\n' $(1) $(2))

BUILD := build/$(BOARD)$(BOARD_BUILD_SUFFIX)
GEN := $(BUILD)/gen
VERSION := $(shell cat VERSION)

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wvla -Wpointer-arith -Wcast-qual -Wundef
# PKCS#11 types come from p11-kit's OASIS-compatible header, on both boards.
PKCS11_INC := -I/usr/include/p11-kit-1
CFLAGS := -std=c11 $(WARNINGS) $(BOARD_CFLAGS) -I. -Iboards/$(BOARD) -I$(GEN) $(PKCS11_INC) -MMD -MP

FIRMWARE_SRCS := \
	firmware/kernel/kernel.c \
	firmware/console/console.c \
	lib/civil_time.c \
	lib/crc32.c \
	lib/base64.c \
	lib/hex.c \
	lib/jsonw.c \
	lib/ipv4.c \
	lib/hostname.c \
	lib/ntp.c \
	lib/tlv.c \
	firmware/audit/audit.c \
	firmware/timesync/timesync.c \
	firmware/enroll/enroll.c \
	firmware/acl/acl.c \
	firmware/identity/identity.c \
	firmware/issue/issue.c \
	firmware/issue/issue_auth.c \
	firmware/revoke/revoke.c \
	firmware/app/cmd_revoke.c \
	firmware/app/cmd_enroll.c \
	firmware/app/cmd_sign.c \
	firmware/app/cmd_identity.c \
	firmware/store/nvstore.c \
	firmware/token/token.c \
	firmware/token/token_selftest.c \
	firmware/token/token_wrap.c \
	firmware/token/token_test.c \
	crypto/p11/p11_wire.c \
	crypto/p11/p11_client.c \
	crypto/sha256.c \
	crypto/ecdsa_der.c \
	crypto/heap.c \
	crypto/rng.c \
	crypto/token_pk.c \
	crypto/x509.c \
	crypto/x509_der.c \
	crypto/x509_verify.c \
	crypto/x509_grant.c \
	crypto/x509_user.c \
	crypto/x509_crl.c \
	crypto/spki.c \
	crypto/doc.c \
	crypto/audit_chain.c \
	firmware/app/main.c \
	firmware/app/core.c \
	firmware/app/core_login.c \
	firmware/app/core_audit.c \
	firmware/app/core_forward.c \
	firmware/app/cmd_audit.c \
	firmware/app/cmd_system.c \
	firmware/app/cmd_token.c \
	firmware/app/cmd_common.c \
	firmware/app/start.c \
	firmware/app/cmd_net.c \
	firmware/app/core_net.c \
	firmware/app/hsm_link.c \
	firmware/app/token_task.c \
	firmware/app/token_work.c

# mbedTLS (fetched, never vendored), configured by crypto/mbedtls_config.h, on every board: the
# crypto layer builds and checks certificates, and TLS needs it. Its headers are system headers to
# our warnings.
MBEDTLS_DIR := build/deps/src/mbedtls
MBEDTLS_SRCS := $(addprefix $(MBEDTLS_DIR)/library/,aes.c aesni.c asn1parse.c asn1write.c base64.c \
	bignum.c bignum_core.c bignum_mod.c bignum_mod_raw.c block_cipher.c chacha20.c chachapoly.c \
	cipher.c cipher_wrap.c constant_time.c ctr_drbg.c ecdh.c ecdsa.c ecp.c ecp_curves.c \
	entropy.c entropy_poll.c error.c gcm.c hkdf.c md.c oid.c pk.c pk_ecc.c pk_wrap.c pkparse.c \
	pkwrite.c platform.c platform_util.c poly1305.c psa_crypto.c psa_crypto_aead.c \
	psa_crypto_cipher.c psa_crypto_client.c psa_crypto_driver_wrappers_no_static.c \
	psa_crypto_ecp.c psa_crypto_hash.c psa_crypto_mac.c psa_crypto_random.c psa_crypto_rsa.c \
	psa_crypto_slot_management.c psa_util.c rsa.c rsa_alt_helpers.c sha1.c sha256.c sha512.c \
	ssl_ciphersuites.c ssl_msg.c ssl_tls.c ssl_tls12_client.c ssl_tls12_server.c \
	ssl_tls13_client.c ssl_tls13_generic.c \
	ssl_tls13_keys.c ssl_tls13_server.c ssl_client.c x509.c x509_crt.c x509_csr.c)
MBEDTLS_FLAGS := -isystem $(MBEDTLS_DIR)/include -DMBEDTLS_CONFIG_FILE='"crypto/mbedtls_config.h"'
CFLAGS += $(MBEDTLS_FLAGS)
THIRD_PARTY_OBJS := $(MBEDTLS_SRCS:$(MBEDTLS_DIR)/library/%=$(BUILD)/mbedtls/%.o)

# expat (fetched, never vendored), configured by crypto/expat/expat_config.h: the XML parser under
# crypto/doc, on every board. Only its public header is visible to our code (as a system header).
EXPAT_DIR := build/deps/src/expat/expat/lib
EXPAT_SRCS := xmlparse.c xmlrole.c xmltok.c
EXPAT_FLAGS := -isystem $(EXPAT_DIR)
CFLAGS += $(EXPAT_FLAGS)
THIRD_PARTY_OBJS += $(EXPAT_SRCS:%=$(BUILD)/expat/%.o)
# expat includes <expat_config.h>: ours, from crypto/expat/ ahead of the system directories — a
# host with libexpat1-dev has its own in /usr/include, built for a Linux library, not for us.
EXPAT_OWN_FLAGS := -Icrypto/expat -I$(EXPAT_DIR)

# The network stack: lwIP (fetched, never vendored) under our port, on boards with an eth driver.
LWIP_DIR := build/deps/src/lwip/src
LWIP_SRCS := $(addprefix $(LWIP_DIR)/,core/init.c core/def.c core/inet_chksum.c core/ip.c \
	core/mem.c core/memp.c core/netif.c core/pbuf.c core/stats.c core/sys.c core/altcp.c \
	core/altcp_alloc.c core/altcp_tcp.c core/dns.c core/tcp.c core/tcp_in.c core/tcp_out.c core/timeouts.c \
	core/udp.c core/ipv4/dhcp.c core/ipv4/etharp.c core/ipv4/icmp.c core/ipv4/ip4.c \
	core/ipv4/ip4_addr.c core/ipv4/ip4_frag.c netif/ethernet.c)
NET_SRCS := net/net.c net/resolve.c net/sntp.c net/relp.c net/http.c net/http_client.c net/http_parse.c net/tls.c net/port/sys_arch.c firmware/app/service.c \
	firmware/app/service_sign.c firmware/app/service_crl.c firmware/app/crl_fetch.c firmware/app/cmd_crl.c \
	firmware/app/core_time.c firmware/app/core_metrics.c firmware/app/service_metrics.c \
	firmware/app/tls_setup.c firmware/app/tls_fibers.c firmware/app/test_forward.c
ifneq ($(filter eth,$(BOARD_FEATURES)),)
NET_INC := -I$(LWIP_DIR)/include -Inet/port -Inet
CFLAGS += $(NET_INC) -DSIGNET_HAS_NET=1
FIRMWARE_SRCS += $(NET_SRCS)
THIRD_PARTY_OBJS += $(LWIP_SRCS:$(LWIP_DIR)/%=$(BUILD)/lwip/%.o)
endif

SRCS := $(FIRMWARE_SRCS) $(BOARD_SRCS)
OBJS := $(SRCS:%=$(BUILD)/obj/%.o) $(THIRD_PARTY_OBJS)
FIRMWARE := $(BUILD)/$(FIRMWARE_NAME)

.PHONY: all firmware run test unit deps lint format clean fuzz fuzz-build bench tools FORCE
all: firmware
firmware: $(FIRMWARE) compile_commands.json

# The build id names the commit (and "-dirty" for local changes); rewritten only when it changes.
$(GEN)/build_id.h: FORCE
	@mkdir -p $(@D)
	@id=$$(git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown); \
	printf '#define SIGNET_BUILD_ID "%s"\n#define SIGNET_VERSION "%s"\n' "$$id" "$(VERSION)" > $@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

# The flags objects were built with; rewritten only when they change, so a changed flag (a board
# gaining a feature, another define) rebuilds what it affects instead of linking stale objects.
# (make expands a whole recipe before running it: the directory is made during expansion too.)
$(BUILD)/flags: FORCE
	$(shell mkdir -p $(@D))
	$(file >$@.tmp,$(CC) $(CFLAGS) $(BOARD_ASFLAGS) $(EXPAT_OWN_FLAGS))
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

# Each object also leaves a compile_commands entry beside it. mbedtls_config.h reaches our
# objects through mbedTLS's headers, which -MMD leaves out (system include path): named here.
$(BUILD)/obj/%.c.o: %.c $(BUILD)/flags crypto/mbedtls_config.h | $(GEN)/build_id.h
	$(call say,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@
	@printf '{"directory":"%s","file":"%s","command":"%s"},\n' "$(CURDIR)" "$<" \
		"$(CC) $(CFLAGS) -c $< -o $@" > $@.json

# Upstream code keeps upstream's warnings to itself: built without -Werror, with our port headers.
$(BUILD)/lwip/%.c.o: $(LWIP_DIR)/%.c $(BUILD)/flags | build/deps/sources.lock
	$(call say,CC,lwip/$*.c)
	@mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -w $(BOARD_CFLAGS) -I. -Iboards/$(BOARD) $(NET_INC) -MMD -MP -c $< -o $@

$(BUILD)/expat/%.c.o: $(EXPAT_DIR)/%.c crypto/expat/expat_config.h $(BUILD)/flags | \
		build/deps/sources.lock
	$(call say,CC,expat/$*.c)
	@mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -w $(BOARD_CFLAGS) $(EXPAT_OWN_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/mbedtls/%.c.o: $(MBEDTLS_DIR)/library/%.c crypto/mbedtls_config.h $(BUILD)/flags | \
		build/deps/sources.lock
	$(call say,CC,mbedtls/$*.c)
	@mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -w $(BOARD_CFLAGS) -I. -Iboards/$(BOARD) -I$(MBEDTLS_DIR)/library \
		$(MBEDTLS_FLAGS) -MMD -MP -c $< -o $@

# The sources above come from the deps step; a plain `make` fetches them when missing.
build/deps/sources.lock:
	$(Q)tools/deps.sh

$(BUILD)/obj/%.S.o: %.S $(BUILD)/flags
	$(call say,AS,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BOARD_ASFLAGS) -c $< -o $@

$(FIRMWARE): $(OBJS) boards/$(BOARD)/board.mk
	$(call say,LD,$@)
	$(Q)$(CC) $(BOARD_LDFLAGS) -o $@ $(OBJS) $(BOARD_LIBS)
	@printf '  image  %s (%s):\n' "$@" "$(BOARD)"; $(SIZE) $@ | sed 's/^/         /'

# Our objects' entries only (upstream code is not ours to lint). cat is never left without a file
# argument: it would read the terminal and hang `make run`.
COMPILE_ENTRIES = $(filter $(BUILD)/obj/%.c.o.json,$(OBJS:%=%.json))
compile_commands.json: $(OBJS)
	@( echo '['; cat /dev/null $(COMPILE_ENTRIES) | sed '$$ s/,$$//'; echo ']' ) > $(BUILD)/$@
	@cp $(BUILD)/$@ $@

-include $(OBJS:.o=.d)

# ---- dependencies: Debian packages and upstream sources (never vendored) ----
deps:
	$(Q)tools/deps.sh

# ---- run ----
# NAME=lic1 runs another appliance beside the default one: its own token, NV file and ports.
run: deps
	$(Q)$(MAKE) --no-print-directory BOARD=$(BOARD) firmware
	$(Q)tools/run.sh $(BOARD) $(NAME)

# ---- tests ----
UNIT_BUILD := build/unit
UNIT_SAN := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
UNIT_CFLAGS := -std=c11 $(WARNINGS) -Wno-missing-prototypes $(UNIT_SAN) -I. -Iboards/host \
	-Itests/unit $(PKCS11_INC) $(MBEDTLS_FLAGS) $(EXPAT_FLAGS)
UNIT_TESTS := kernel console nvstore civil_time ringbuf p11_wire sha256 ecdsa_der jsonw ipv4 hostname ntp timesync http_parse \
	x509 tlv audit doc spki p11_client token x509_user identity x509_crl revoke acl token_data acl_token enroll issue
UNIT_kernel := firmware/kernel/kernel.c tests/unit/fake_board.c boards/host/host_context.c boards/host/host_switch.S
UNIT_console := firmware/console/console.c
UNIT_nvstore := firmware/store/nvstore.c lib/crc32.c tests/unit/fake_nv.c
UNIT_civil_time := lib/civil_time.c
UNIT_ringbuf :=
UNIT_p11_wire := crypto/p11/p11_wire.c
UNIT_p11_client := crypto/p11/p11_client.c crypto/p11/p11_wire.c
UNIT_token := firmware/token/token.c crypto/ecdsa_der.c crypto/sha256.c tests/unit/fake_p11.c \
	tests/unit/no_spki.c
# firmware/token's data objects and certificates against tests/unit/fake_p11 (an in-memory token
# with failure injection: a call cut, the link lost, the power cut).
UNIT_token_data := firmware/token/token.c crypto/ecdsa_der.c crypto/sha256.c tests/unit/fake_p11.c \
	tests/unit/no_spki.c
UNIT_sha256 := crypto/sha256.c
UNIT_ecdsa_der := crypto/ecdsa_der.c
UNIT_jsonw := lib/jsonw.c
UNIT_ipv4 := lib/ipv4.c
UNIT_hostname := lib/hostname.c lib/ipv4.c
UNIT_ntp := lib/ntp.c
UNIT_timesync := firmware/timesync/timesync.c
UNIT_tlv := lib/tlv.c
# firmware/acl against an in-memory token object store (the test's token_data_read/write).
UNIT_acl := firmware/acl/acl.c lib/tlv.c lib/hex.c
# firmware/acl over the real firmware/token and tests/unit/fake_p11: what the token ends up holding.
UNIT_acl_token := firmware/acl/acl.c lib/tlv.c lib/hex.c $(UNIT_token_data)
# The audit ring over tests/unit/fake_nv; seals signed by libcrypto, verified by mbedTLS.
UNIT_audit := firmware/audit/audit.c crypto/audit_chain.c crypto/sha256.c crypto/heap.c crypto/rng.c crypto/token_pk.c \
	firmware/store/nvstore.c lib/crc32.c tests/unit/fake_nv.c
UNIT_OBJS_audit := $(MBEDTLS_SRCS:$(MBEDTLS_DIR)/library/%.c=$(UNIT_BUILD)/mbedtls/%.o)
UNIT_LIBS_audit := -lcrypto
UNIT_http_parse := net/http_parse.c
# The test signs with OpenSSL's libcrypto (keys made at run time): one implementation signs,
# the other verifies.
UNIT_x509 := crypto/x509.c crypto/x509_der.c crypto/x509_verify.c crypto/x509_grant.c crypto/spki.c crypto/heap.c \
	crypto/rng.c crypto/token_pk.c
UNIT_OBJS_x509 := $(MBEDTLS_SRCS:$(MBEDTLS_DIR)/library/%.c=$(UNIT_BUILD)/mbedtls/%.o)
UNIT_LIBS_x509 := -lcrypto
UNIT_doc := crypto/doc.c crypto/x509_grant.c crypto/heap.c
# Identity certificates made by openssl (tests/unit/vectors/identity); libcrypto reads the PEM.
UNIT_x509_user := crypto/x509_user.c $(UNIT_x509)
UNIT_OBJS_x509_user := $(UNIT_OBJS_x509)
UNIT_LIBS_x509_user := -lcrypto
UNIT_FLAGS_x509_user := -DID_VECTORS='"$(CURDIR)/tests/unit/vectors/identity"'
# The identity store against a fake token object store (the test's token_data_read/write).
UNIT_identity := firmware/identity/identity.c firmware/acl/acl.c lib/tlv.c \
	lib/hex.c $(UNIT_x509_user)
UNIT_OBJS_identity := $(UNIT_OBJS_x509)
UNIT_LIBS_identity := -lcrypto
UNIT_FLAGS_identity := -DIDENTITY_VECTORS='"$(CURDIR)/tests/unit/vectors/identity"'
# firmware/revoke against a fake token whose SLC key is libcrypto's; the CRLs read back by
# crypto/x509_crl and by OpenSSL.
UNIT_revoke := firmware/revoke/revoke.c lib/tlv.c lib/civil_time.c \
	crypto/sha256.c crypto/x509_crl.c $(UNIT_x509_user)
UNIT_OBJS_revoke := $(UNIT_OBJS_x509)
UNIT_LIBS_revoke := -lcrypto
# CRLs built by our writer and by OpenSSL, each read and verified by the other.
UNIT_x509_crl := crypto/x509_crl.c $(UNIT_x509_user)
UNIT_OBJS_x509_crl := $(UNIT_OBJS_x509)
UNIT_LIBS_x509_crl := -lcrypto
# firmware/enroll's state machine over the real firmware/token and tests/unit/fake_p11.
UNIT_enroll := firmware/enroll/enroll.c lib/civil_time.c lib/tlv.c crypto/doc.c $(UNIT_x509) \
	firmware/token/token.c crypto/ecdsa_der.c crypto/sha256.c tests/unit/fake_p11.c
UNIT_OBJS_enroll := $(UNIT_OBJS_x509) $(EXPAT_SRCS:%.c=$(UNIT_BUILD)/expat/%.o)
UNIT_LIBS_enroll := -lcrypto
# firmware/issue's refusals over the real token, acl, enroll, revoke and tests/unit/fake_p11.
UNIT_issue := firmware/issue/issue.c firmware/issue/issue_auth.c firmware/identity/identity.c \
	firmware/revoke/revoke.c firmware/acl/acl.c lib/hex.c \
	crypto/x509_user.c crypto/x509_crl.c firmware/token/token_wrap.c $(UNIT_enroll)
UNIT_OBJS_issue := $(UNIT_OBJS_enroll)
UNIT_LIBS_issue := -lcrypto
UNIT_FLAGS_issue := -DIDENTITY_VECTORS='"$(CURDIR)/tests/unit/vectors/identity"'
UNIT_spki := crypto/spki.c crypto/heap.c crypto/rng.c crypto/token_pk.c
UNIT_OBJS_spki := $(UNIT_OBJS_x509)
# Upstream objects a test links (UNIT_OBJS_<name>), built with the tests' sanitizers but not our
# warnings; UNIT_FLAGS_<name> are extra flags for that test, UNIT_LIBS_<name> libraries.
UNIT_OBJS_doc := $(EXPAT_SRCS:%.c=$(UNIT_BUILD)/expat/%.o) $(UNIT_BUILD)/mbedtls/base64.o
UNIT_FLAGS_doc := -DDOC_VECTORS='"$(CURDIR)/tests/unit/vectors/doc"'
UNIT_BINS := $(UNIT_TESTS:%=$(UNIT_BUILD)/test_%)

.SECONDEXPANSION:
$(UNIT_BUILD)/test_%: tests/unit/test_%.c tests/unit/unit.h $$(UNIT_$$*) $$(UNIT_OBJS_$$*) \
		$$(wildcard tests/unit/*.h)
	$(call say,CC,$@)
	@mkdir -p $(@D)
	$(Q)gcc $(UNIT_CFLAGS) $(UNIT_FLAGS_$*) -o $@ $< $(UNIT_$*) $(UNIT_OBJS_$*) $(UNIT_LIBS_$*)

.PRECIOUS: $(UNIT_BUILD)/mbedtls/%.o $(UNIT_BUILD)/expat/%.o
$(UNIT_BUILD)/expat/%.o: $(EXPAT_DIR)/%.c crypto/expat/expat_config.h | build/deps/sources.lock
	$(call say,CC,$@)
	@mkdir -p $(@D)
	$(Q)gcc -std=gnu11 -w $(UNIT_SAN) $(EXPAT_OWN_FLAGS) -c $< -o $@

$(UNIT_BUILD)/mbedtls/%.o: $(MBEDTLS_DIR)/library/%.c crypto/mbedtls_config.h | build/deps/sources.lock
	$(call say,CC,unit/mbedtls/$*.c)
	@mkdir -p $(@D)
	$(Q)gcc -std=gnu11 -w $(UNIT_SAN) -I. -Iboards/host -I$(MBEDTLS_DIR)/library $(MBEDTLS_FLAGS) \
		-c $< -o $@

unit: $(UNIT_BINS)

test: deps
	$(Q)$(MAKE) --no-print-directory BOARD=host firmware
	$(Q)$(MAKE) --no-print-directory BOARD=host SANITIZE=1 firmware
	$(Q)$(MAKE) --no-print-directory BOARD=vexpress-a9 firmware
	$(Q)$(MAKE) --no-print-directory unit fuzz-build tools
	$(Q)SIGNET_HOST_BIN=build/host-asan/signet python3 tests/run.py

# ---- fuzzing: libFuzzer targets, one per parser of untrusted input ----
FUZZ_BUILD := build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -I. -Iboards/host $(PKCS11_INC) \
	$(MBEDTLS_FLAGS) $(EXPAT_FLAGS)
FUZZ_TARGETS := p11_client http_parse doc console x509 csr spki http_answer tls_peer x509_user \
	identity crl audit
FUZZ_console := firmware/console/console.c
FUZZ_p11_client := crypto/p11/p11_client.c crypto/p11/p11_wire.c
FUZZ_http_parse := net/http_parse.c
FUZZ_doc := crypto/doc.c crypto/x509_grant.c crypto/heap.c
FUZZ_X509_SRCS := crypto/x509.c crypto/x509_der.c crypto/x509_verify.c crypto/x509_grant.c crypto/spki.c crypto/heap.c \
	crypto/rng.c crypto/token_pk.c
FUZZ_x509 := $(FUZZ_X509_SRCS)
FUZZ_csr := $(FUZZ_X509_SRCS)
FUZZ_spki := $(FUZZ_X509_SRCS)
# fuzz_x509_user.c includes crypto/x509_user.c (to reach the name reader behind the signature).
FUZZ_x509_user := $(FUZZ_X509_SRCS)
FUZZ_http_answer := net/http_parse.c
FUZZ_tls_peer := lib/hex.c crypto/heap.c crypto/rng.c crypto/token_pk.c
# Upstream objects, instrumented for coverage too so the fuzzer can steer through expat and
# mbedTLS's ASN.1 and X.509 readers.
FUZZ_OBJS_doc := $(EXPAT_SRCS:%.c=$(FUZZ_BUILD)/expat/%.o) $(FUZZ_BUILD)/mbedtls/base64.o
FUZZ_MBEDTLS_OBJS := $(MBEDTLS_SRCS:$(MBEDTLS_DIR)/library/%.c=$(FUZZ_BUILD)/mbedtls/%.o)
FUZZ_OBJS_x509 := $(FUZZ_MBEDTLS_OBJS)
FUZZ_OBJS_csr := $(FUZZ_MBEDTLS_OBJS)
FUZZ_OBJS_spki := $(FUZZ_MBEDTLS_OBJS)
FUZZ_OBJS_x509_user := $(FUZZ_MBEDTLS_OBJS)
FUZZ_OBJS_tls_peer := $(FUZZ_MBEDTLS_OBJS)
# The fixed trust anchor fuzz_x509 verifies chains against (made by tests/fuzz/make_x509_seeds.py).
FUZZ_FLAGS_x509 := -DFUZZ_X509_ANCHOR='"$(CURDIR)/tests/fuzz/x509_anchor.der"'
FUZZ_FLAGS_tls_peer := $(FUZZ_FLAGS_x509)
# fuzz_x509_user verifies against the Contoso user CA of the identity vectors.
FUZZ_FLAGS_x509_user := -DFUZZ_USER_VECTORS='"$(CURDIR)/tests/unit/vectors/identity"'
# fuzz_identity: the token's identity record (its own token_data_read/write), then who bob is.
FUZZ_identity := firmware/identity/identity.c firmware/acl/acl.c lib/tlv.c \
	lib/hex.c crypto/x509_user.c $(FUZZ_X509_SRCS)
FUZZ_OBJS_identity := $(FUZZ_MBEDTLS_OBJS)
# fuzz_crl: CRLs read against the fixed issuer of its seeds (tests/fuzz/crl_issuer.der); it
# includes crypto/x509_crl.c (to reach the body parser behind the signature).
FUZZ_crl := crypto/x509_user.c $(FUZZ_X509_SRCS)
FUZZ_OBJS_crl := $(FUZZ_MBEDTLS_OBJS)
FUZZ_FLAGS_crl := -DFUZZ_CRL_ISSUER='"$(CURDIR)/tests/fuzz/crl_issuer.der"'
FUZZ_FLAGS_identity := $(FUZZ_FLAGS_x509_user)
# fuzz_audit: ring records and export files, through the chain walker (seals checked by mbedTLS).
FUZZ_audit := crypto/audit_chain.c crypto/sha256.c lib/crc32.c crypto/heap.c crypto/rng.c \
	crypto/token_pk.c
FUZZ_OBJS_audit := $(FUZZ_MBEDTLS_OBJS)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_LIB_CFLAGS := -std=gnu11 -w -g -O1 -fsanitize=fuzzer-no-link,address,undefined

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_$$*) $$(FUZZ_OBJS_$$*)
	$(call say,CLANG,$@)
	@mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) $(FUZZ_FLAGS_$*) -o $@ $< $(FUZZ_$*) $(FUZZ_OBJS_$*)

$(FUZZ_BUILD)/expat/%.o: $(EXPAT_DIR)/%.c crypto/expat/expat_config.h | build/deps/sources.lock
	$(call say,CLANG,$@)
	@mkdir -p $(@D)
	$(Q)clang $(FUZZ_LIB_CFLAGS) $(EXPAT_OWN_FLAGS) -c $< -o $@

$(FUZZ_BUILD)/mbedtls/%.o: $(MBEDTLS_DIR)/library/%.c crypto/mbedtls_config.h | build/deps/sources.lock
	$(call say,CLANG,$@)
	@mkdir -p $(@D)
	$(Q)clang $(FUZZ_LIB_CFLAGS) -I. -I$(MBEDTLS_DIR)/library $(MBEDTLS_FLAGS) -c $< -o $@

$(FUZZ_BUILD)/fuzz_x509_user: crypto/x509_user.c crypto/x509_user.h
$(FUZZ_BUILD)/fuzz_crl: crypto/x509_crl.c crypto/x509_crl.h

fuzz-build: $(FUZZ_BINS)

# Upstream objects are kept between builds (make would delete them as intermediates).
.PRECIOUS: $(UNIT_BUILD)/expat/%.o $(UNIT_BUILD)/mbedtls/%.o $(FUZZ_BUILD)/expat/%.o \
	$(FUZZ_BUILD)/mbedtls/%.o

# Run each target for FUZZ_SECONDS on its corpus (tests/fuzz/corpus/<target>, kept between runs;
# a target without committed seeds starts from its build corpus alone).
fuzz: deps fuzz-build
	$(Q)for t in $(FUZZ_TARGETS); do mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
		seeds=tests/fuzz/corpus/$$t; [ -d $$seeds ] || seeds=; \
		$(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		$(FUZZ_BUILD)/corpus/$$t $$seeds || exit 1; done

# ---- tools: signet-authority, the enrollment authority (a Linux program; its key in a token) ----
# Our configured mbedTLS (crypto/mbedtls_config.h: ECDSA signing and entropy go through the
# token) and expat, the crypto/ profile and documents, and the HTTP head parser; hardened like the
# host board.
TOOLS_BUILD := build/tools
AUTHORITY := $(TOOLS_BUILD)/signet-authority
AUTHORITY_SRCS := $(wildcard tools/signet-authority/*.c) crypto/x509.c crypto/x509_der.c crypto/x509_verify.c \
	crypto/x509_grant.c crypto/x509_user.c crypto/x509_crl.c crypto/doc.c crypto/heap.c crypto/rng.c crypto/token_pk.c crypto/sha256.c crypto/audit_chain.c crypto/spki.c lib/crc32.c lib/civil_time.c lib/hex.c lib/ipv4.c net/http_parse.c
AUTHORITY_HDRS := $(wildcard tools/signet-authority/*.h crypto/*.h) net/http_parse.h lib/civil_time.h \
	lib/ipv4.h boards/host/signet_config.h firmware/signet_defaults.h
AUTHORITY_OBJS := $(MBEDTLS_SRCS:$(MBEDTLS_DIR)/library/%.c=$(TOOLS_BUILD)/mbedtls/%.o) \
	$(EXPAT_SRCS:%.c=$(TOOLS_BUILD)/expat/%.o)
AUTHORITY_HARDEN := -O2 -g -fPIE -fstack-protector-strong -D_FORTIFY_SOURCE=2

# signet-client: the user's side (keys, RACs, licenses, protected files). The same crypto/
# objects for certificates and documents; OpenSSL's libcrypto for the user's own key and AES-GCM,
# libcurl (OpenSSL flavour: the TLS pin is an OpenSSL verify callback) for HTTPS.
SIGNET_CLIENT := $(TOOLS_BUILD)/signet-client
CLIENT_SRCS := $(wildcard tools/signet-client/*.c) crypto/x509.c crypto/x509_der.c crypto/x509_verify.c \
	crypto/x509_grant.c crypto/x509_user.c crypto/x509_crl.c crypto/doc.c crypto/heap.c crypto/rng.c crypto/token_pk.c lib/hex.c \
	lib/civil_time.c
CLIENT_HDRS := $(wildcard tools/signet-client/*.h crypto/*.h) boards/host/signet_config.h

tools: $(AUTHORITY) $(SIGNET_CLIENT)

$(AUTHORITY): $(AUTHORITY_SRCS) $(AUTHORITY_HDRS) $(AUTHORITY_OBJS)
	$(call say,LD,$@)
	$(Q)gcc -std=c11 $(WARNINGS) $(AUTHORITY_HARDEN) -I. -Iboards/host $(PKCS11_INC) \
		$(MBEDTLS_FLAGS) $(EXPAT_FLAGS) -pie -Wl,-z,relro,-z,now,-z,noexecstack -o $@ \
		$(AUTHORITY_SRCS) $(AUTHORITY_OBJS) -ldl

$(SIGNET_CLIENT): $(CLIENT_SRCS) $(CLIENT_HDRS) $(AUTHORITY_OBJS)
	$(call say,LD,$@)
	$(Q)gcc -std=c11 $(WARNINGS) $(AUTHORITY_HARDEN) -I. -Iboards/host $(MBEDTLS_FLAGS) \
		$(EXPAT_FLAGS) -pie -Wl,-z,relro,-z,now,-z,noexecstack -o $@ \
		$(CLIENT_SRCS) $(AUTHORITY_OBJS) -lcurl -lssl -lcrypto

$(TOOLS_BUILD)/mbedtls/%.o: $(MBEDTLS_DIR)/library/%.c crypto/mbedtls_config.h | build/deps/sources.lock
	$(call say,CC,$@)
	@mkdir -p $(@D)
	$(Q)gcc -std=gnu11 -w $(AUTHORITY_HARDEN) -I. -Iboards/host -I$(MBEDTLS_DIR)/library \
		$(MBEDTLS_FLAGS) -c $< -o $@

$(TOOLS_BUILD)/expat/%.o: $(EXPAT_DIR)/%.c crypto/expat/expat_config.h | build/deps/sources.lock
	$(call say,CC,$@)
	@mkdir -p $(@D)
	$(Q)gcc -std=gnu11 -w $(AUTHORITY_HARDEN) $(EXPAT_OWN_FLAGS) -c $< -o $@

# ---- benchmarks: ratios within one run (absolute rates drift on shared machines) ----
build/bench/p11bench: tests/bench/p11bench.c
	@mkdir -p $(@D)
	$(Q)gcc -std=c11 -O2 -Wall -Wextra -Werror $(PKCS11_INC) -o $@ $< -ldl

bench: deps build/bench/p11bench
	$(Q)$(MAKE) --no-print-directory BOARD=host firmware
	$(Q)$(MAKE) --no-print-directory tools
	$(Q)python3 tests/bench/bench_sign.py
	$(Q)python3 tests/bench/bench_https.py
	$(Q)python3 tests/bench/bench_issue.py

# ---- hygiene ----
LINT_SRCS = $(shell git ls-files '*.c' '*.h')
lint:
	$(Q)clang-format --dry-run --Werror $(LINT_SRCS)
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
		--suppress=missingIncludeSystem --std=c11 -I. -Iboards/host $(PKCS11_INC) $(LINT_SRCS)

format:
	$(Q)clang-format -i $(LINT_SRCS)

clean:
	rm -rf build compile_commands.json
