"""The models PilotQA runs, all local: preparing them from the registry packages that ship them and running them.

Owns: converting the bundled e5 into a sentence-transformers folder (``e5``), its ONNX Runtime export
(``onnx_encoder``), the embedder both sides use (``embed``), joining and checking the GGUF language-model weights
(``gguf``), and llama.cpp's server process on 127.0.0.1 (``llama_server``). Does not own: what is embedded or
stored (``kb``, ``ingest``), or prompts and answers (``assistant``).
"""
