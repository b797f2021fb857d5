# Constant-time claims under Valgrind memcheck (issue 13, item 9; docs/core.md "Constant time"):
# tests/ctime/ctime_claims.c (threshold dealing/combining, partial app keys, IBE, HPKE open, BIP-39,
# BIP-32, tkms_unhex) and tests/ctime/ctime_dkg.c (the DKG engine's dealing and share check), one
# ctest per case, labels ctime and valgrind: `ctest -L ctime` runs them (and test_ctime_bls), the
# Valgrind pass of the Makefile (`-L valgrind`) too, the ASan pass excludes them (-LE valgrind).
# tests/ctime/ctime.supp declassifies the documented verdicts (one entry per exception).
# Included from tests/tests.cmake; needs TKMS_VALGRIND from tests/bls.cmake.
if(TKMS_VALGRIND AND TARGET tkms_wallet)
  # The sources under test are compiled into the test itself, with the libraries' flags plus -g:
  # memcheck then names file:line and inlined helpers (is_space, find_word, ...), and the
  # suppressions can name the exact inlined function that makes a verdict public. Their objects in
  # the static libraries are then never pulled (every symbol they define is defined here).
  set(TKMS_CTIME_SRC src/prim/hex.c src/prim/aead.c src/prim/ed25519.c src/core/ibe.c src/core/tbls.c
      src/core/appkey.c src/dkg/hpke.c src/wallet/bip39.c src/wallet/bip32.c src/wallet/base58.c)
  list(TRANSFORM TKMS_CTIME_SRC PREPEND ${CMAKE_SOURCE_DIR}/)
  add_executable(test_ctime_claims ${CMAKE_SOURCE_DIR}/tests/ctime/ctime_claims.c ${TKMS_CTIME_SRC})
  target_compile_options(test_ctime_claims PRIVATE -g -Wall -Wextra -Werror)
  target_include_directories(test_ctime_claims PRIVATE ${CMAKE_SOURCE_DIR}/src/dkg ${CMAKE_SOURCE_DIR}/src/prim
                             ${CMAKE_SOURCE_DIR}/src/wallet ${CMAKE_SOURCE_DIR}/src/core)
  target_link_libraries(test_ctime_claims PRIVATE tkms_testsupport tkms_dkg tkms_wallet tkms_prim PkgConfig::SECP256K1)
  # declassification of verdicts and public keys (tests/ctime/declassify_wrap.c)
  target_sources(test_ctime_claims PRIVATE ${CMAKE_SOURCE_DIR}/tests/ctime/declassify_wrap.c
                 ${CMAKE_SOURCE_DIR}/tests/ctime/declassify_wallet.c)
  target_link_options(test_ctime_claims PRIVATE -Wl,--wrap=g2_eq,--wrap=EVP_PKEY_derive,--wrap=EVP_CipherFinal_ex
    -Wl,--wrap=secp256k1_ec_seckey_verify,--wrap=secp256k1_ec_seckey_tweak_add,--wrap=secp256k1_ec_pubkey_create
    -Wl,--wrap=tkms_base58_leading_zero_digits)
  # the engine's static functions: engine_deal.c is included into the test (compiled here with -g so
  # that memcheck names its lines and inlined helpers)
  add_executable(test_ctime_dkg ${CMAKE_SOURCE_DIR}/tests/ctime/ctime_dkg.c)
  target_compile_options(test_ctime_dkg PRIVATE -g -Wall -Wextra -Werror)
  target_include_directories(test_ctime_dkg PRIVATE ${CMAKE_SOURCE_DIR}/src/dkg)
  target_link_libraries(test_ctime_dkg PRIVATE tkms_testsupport tkms_dkg PkgConfig::SECP256K1)
  target_sources(test_ctime_dkg PRIVATE ${CMAKE_SOURCE_DIR}/tests/ctime/declassify_wrap.c)
  target_link_options(test_ctime_dkg PRIVATE -Wl,--wrap=g2_eq,--wrap=EVP_PKEY_derive,--wrap=EVP_CipherFinal_ex
    -Wl,--wrap=secp256k1_ec_seckey_verify,--wrap=secp256k1_ec_seckey_tweak_add,--wrap=secp256k1_ec_pubkey_create)
  set(TKMS_CTIME_VG ${TKMS_VALGRIND} --suppressions=${CMAKE_SOURCE_DIR}/tests/ctime/ctime.supp)
  foreach(c tbls appkey ibe hpke bip39 bip32 bip32_xprv unhex)
    add_test(NAME test_ctime_${c} COMMAND ${TKMS_CTIME_VG} $<TARGET_FILE:test_ctime_claims> ${c})
    set_tests_properties(test_ctime_${c} PROPERTIES LABELS "ctime;valgrind" TIMEOUT 600)
  endforeach()
  foreach(c deal verify)
    add_test(NAME test_ctime_dkg_${c} COMMAND ${TKMS_CTIME_VG} $<TARGET_FILE:test_ctime_dkg> ${c})
    set_tests_properties(test_ctime_dkg_${c} PROPERTIES LABELS "ctime;valgrind" TIMEOUT 600)
  endforeach()
endif()
