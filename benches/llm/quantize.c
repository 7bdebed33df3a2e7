/* Re-quantises a GGUF file with llama.cpp's own quantiser (llama_model_quantize, the code
 * behind llama-quantize), linked against the static llama.cpp that Twin's release build
 * made, so that the batching ceiling of block types with x86 repacked GEMM kernels
 * (IQ4_NL, Q4_K) can be measured when only a quantised file is at hand.
 * The source's weights are dequantised and quantised again (allow_requantize): fit for
 * speed, not for quality comparisons. "pure" quantises every matrix to the named type;
 * without it llama.cpp's per-tensor rules apply (output/embedding matrix kept at higher
 * precision; a fallback type for rows that are not a multiple of the 256-wide K block).
 *
 * Build and use: benches/llm/quantize.sh IN.gguf OUT.gguf q4_0|iq4_nl|q4_k_s|q4_k_m|q8_0 [pure]
 */
#include <stdio.h>
#include <string.h>
#include "llama.h"

int main(int argc, char **argv) {
    const char *usage = "usage: quantize IN.gguf OUT.gguf q4_0|iq4_nl|q4_k_s|q4_k_m|q8_0 [pure]\n";
    if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "pure") != 0)) {
        fputs(usage, stderr);
        return 2;
    }
    enum llama_ftype ftype;
    if (!strcmp(argv[3], "q4_0")) ftype = LLAMA_FTYPE_MOSTLY_Q4_0;
    else if (!strcmp(argv[3], "iq4_nl")) ftype = LLAMA_FTYPE_MOSTLY_IQ4_NL;
    else if (!strcmp(argv[3], "q4_k_s")) ftype = LLAMA_FTYPE_MOSTLY_Q4_K_S;
    else if (!strcmp(argv[3], "q4_k_m")) ftype = LLAMA_FTYPE_MOSTLY_Q4_K_M;
    else if (!strcmp(argv[3], "q8_0")) ftype = LLAMA_FTYPE_MOSTLY_Q8_0;
    else {
        fprintf(stderr, "unknown type %s\n%s", argv[3], usage);
        return 2;
    }
    llama_backend_init();
    struct llama_model_quantize_params p = llama_model_quantize_default_params();
    p.ftype = ftype;
    p.allow_requantize = true;
    p.pure = argc == 5;
    p.nthread = 2;
    uint32_t rc = llama_model_quantize(argv[1], argv[2], &p);
    if (rc != 0) {
        fprintf(stderr, "llama_model_quantize failed (%u): %s -> %s\n", rc, argv[1], argv[2]);
        return 1;
    }
    printf("wrote %s (%s%s)\n", argv[2], argv[3], argc == 5 ? ", pure" : "");
    return 0;
}
