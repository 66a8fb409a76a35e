/** Tokenizers built from GGUF metadata (SentencePiece BPE and byte-level BPE) and streaming detokenization. */
@NullMarked
package dev.gearbx.engine.tokenizer;

import org.jspecify.annotations.NullMarked;
