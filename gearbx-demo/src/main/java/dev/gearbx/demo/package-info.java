/**
 * The embedded default model: {@link dev.gearbx.demo.DemoModel} (the committed GGUF), {@link dev.gearbx.demo.DemoVocabulary}
 * (its character-level SentencePiece vocabulary) and {@link dev.gearbx.demo.DemoCorpus} (the seeded synthetic corpus of
 * trivial exchanges and graded arithmetic it was trained on and is scored with).
 */
@NullMarked
package dev.gearbx.demo;

import org.jspecify.annotations.NullMarked;
