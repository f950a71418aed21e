# Write lme4::InstEval (73,421 rows) to the CSV path given on the command line.
# The data are NOT committed; the speed benchmark exports them on demand:
#     Rscript tests/reference/speed/export_insteval.R /tmp/insteval.csv
# Columns: s, d, studage, lectage, service, dept, y. Factors are written as their labels
# (s, d, dept are ID-like strings; studage and lectage are ordered factors in R, written as
# their labels; service is "0"/"1"). Read back with every column but y as a factor to
# reproduce R's model (in R: read.csv(path, colClasses = c(rep("factor", 6), "integer"))).
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: Rscript export_insteval.R <output.csv>")
d <- lme4::InstEval
for (v in names(d)) if (is.factor(d[[v]])) d[[v]] <- as.character(d[[v]])
write.csv(d, args[1], row.names = FALSE)
cat("wrote", nrow(d), "rows to", args[1], "\n")
