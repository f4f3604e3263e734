"""Documents' metadata values: `conditions` (RAGFlow's metadata_condition filter) and `vocabulary.MetaVocabulary`
(each dataset's distinct values with their document counts)."""
