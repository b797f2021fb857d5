/* x86-64 ADX/BMI2 backend for Fp multiplication (src/core/fp_x86_64.S, generated). */
#ifndef TKMS_FP_X86_H
#define TKMS_FP_X86_H
#include <stdint.h>
void tkms_fp_mul_adx(uint64_t r[6], const uint64_t a[6], const uint64_t b[6]);
void tkms_fp_add_x86(uint64_t r[6], const uint64_t a[6], const uint64_t b[6]);
void tkms_fp_sub_x86(uint64_t r[6], const uint64_t a[6], const uint64_t b[6]);
void tkms_fp_mul_wide_adx(uint64_t r[12], const uint64_t a[6], const uint64_t b[6]);
void tkms_fp_sqr_wide_adx(uint64_t r[12], const uint64_t a[6]);
void tkms_fp_redc_adx(uint64_t r[6], const uint64_t t[12]);
void tkms_fp_add_nr_x86(uint64_t r[6], const uint64_t a[6], const uint64_t b[6]);
void tkms_fp_wide_sub_x86(uint64_t r[12], const uint64_t a[12], const uint64_t b[12]);
/* Montgomery squaring: tkms_fp_sqr_wide_adx then tkms_fp_redc_adx in one call. */
void tkms_fp_sqr_adx(uint64_t r[6], const uint64_t a[6]);
/* Fp2 elements as c0 || c1 (12 words): lazy Karatsuba product and complex squaring. */
void tkms_fp2_mul_adx(uint64_t r[12], const uint64_t a[12], const uint64_t b[12]);
void tkms_fp2_sqr_adx(uint64_t r[12], const uint64_t a[12]);
/* 1 when the CPU has ADX and BMI2 (set by a constructor in fp.c). */
extern int tkms_fp_have_adx;
#define fp_mul_adx tkms_fp_mul_adx
#endif
