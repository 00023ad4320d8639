# shellcheck shell=bash
# Environment for every Node.js process an npm script starts (sourced by start.sh, test.sh,
# bench.sh and chaos.sh; children such as cdklocal and vitest workers inherit it).
#
# On Node < 22 the AWS SDK for JavaScript v3 prints a NodeVersionSupportWarning ("versions
# published after the first week of January 2027 will require node >=22") once per process that
# makes a client. This project supports Node >= 20 (package.json engines), and one run starts many
# such processes (tsx scripts, cdklocal, vitest workers), so the same notice would repeat through the
# output. The SDK's own switch silences it (@aws-sdk/core checks the value "true"); export the
# variable with another value to see the notice again.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED="${AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED:-true}"
