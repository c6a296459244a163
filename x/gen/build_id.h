#define SIGNET_BUILD_ID "ca62550720e0-dirty"
#define SIGNET_VERSION "0.1.0"
