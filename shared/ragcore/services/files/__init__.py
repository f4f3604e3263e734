"""Files: the file manager (folders, uploads, moves, links into datasets: `manager.FileService`) and commits of
workspace folders and datasets (`commits.FileCommitService`)."""
