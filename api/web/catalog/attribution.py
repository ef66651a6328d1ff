"""Chinese of the attribution form and of a report's page."""

CHINESE = {
    "share of conversions (%)": "转化占比（%）",
    "Attributed conversions by channel and model": "各渠道在各模型下归因的转化",
    "Credit by channel and model": "各渠道在各模型下的归因",
    # models
    "First touch": "首次触点",
    "Last touch": "末次触点",
    "Linear": "线性",
    "Position based": "位置加权",
    "Time decay": "时间衰减",
    "Markov chain": "马尔可夫链",
    "Shapley value": "Shapley 值",
    "All credit to the channel that started the journey.": "全部功劳归于开启旅程的渠道。",
    "All credit to the channel that closed the journey.": "全部功劳归于促成转化的最后一个渠道。",
    "Equal credit to every touch of the journey.": "旅程中的每个触点平分功劳。",
    "Most credit to the first and the last touch, the rest split over the middle.":
        "大部分功劳归于首次和末次触点，其余由中间触点平分。",
    "More credit the closer a touch is to the conversion; it halves every half-life.":
        "触点离转化越近功劳越多；每经过一个半衰期减半。",
    "Credit by removal effect: the conversions lost if a channel were taken out of the "
    "journeys.":
        "按移除效应分配：假如从旅程中去掉某渠道，会损失多少转化。",
    "Each conversion shared fairly among the channels that worked together (game theory).":
        "每次转化在共同起作用的渠道之间公平分配（博弈论）。",
    # the form
    "Compare attribution models": "比较归因模型",
    "Each model splits the same conversions among the channels by a different rule. Run "
    "several side by side: where they agree, the credit is robust; where they differ, it "
    "depends on the rule.":
        "每个模型按不同的规则把同样的转化分给各渠道。请并排运行多个模型：结论一致之处，功劳分配"
        "是稳健的；结论不同之处，取决于所选的规则。",
    "This workspace has no journeys (paths) yet.": "本工作区还没有转化路径数据。",
    "Upload paths first.": "请先上传转化路径。",
    "Ask an owner of the workspace to upload them.": "请工作区所有者上传。",
    "Journeys (paths dataset)": "用户旅程（转化路径数据集）",
    "Models": "模型",
    "Settings": "设置",
    "Each setting applies to the models that use it; the defaults suit most data.":
        "每项设置只作用于用到它的模型；默认值适合大多数数据。",
    "Markov chain: order": "马尔可夫链：阶数",
    "auto (chosen on held-out journeys)": "自动（用留出的旅程选择）",
    "How many previous channels the chain remembers.": "链记住之前多少个渠道。",
    "Markov chain: keep repeated touches of a channel as separate steps":
        "马尔可夫链：同一渠道的连续重复触点作为单独的步骤保留",
    "Shapley value: value function": "Shapley 值：价值函数",
    "simplified: an equal split over each journey's channels; ordered: split further by "
    "position; conversion_rate: by the conversion rate of each set of channels.":
        "simplified：在每段旅程的渠道间平分；ordered：再按位置细分；conversion_rate：按每组渠道的"
        "转化率分配。",
    "Shapley value (conversion_rate): journeys a set of channels needs to count":
        "Shapley 值（conversion_rate）：一组渠道至少需要多少段旅程才计入",
    "Position based: shares of the first and the last touch": "位置加权：首次与末次触点的份额",
    "Fractions from 0 to 1 that add up to at most 1; the rest is split over the middle.":
        "0 到 1 之间的小数，两者之和不超过 1；其余部分由中间触点平分。",
    "Time decay: half-life in days": "时间衰减：半衰期（天）",
    "Time decay: half-life in touches, for journeys without touch times":
        "时间衰减：半衰期（触点数），用于没有触点时间的旅程",
    "Intervals: bootstrap replicates": "区间：自助法重抽样次数",
    "0 for no intervals, or 2 to {most}: the journeys are resampled this many times. 200 gives "
    "steady intervals; more takes longer.":
        "0 表示不计算区间，或取 2 到 {most}：旅程将被重抽样这么多次。200 次即可得到稳定的区间；"
        "次数越多耗时越长。",
    "Intervals: resampling": "区间：重抽样方式",
    "Intervals: confidence level": "区间：置信水平",
    "A fraction, such as 0.95 for 95% intervals.": "一个小数，例如 0.95 表示 95% 区间。",
    "Random seed": "随机种子",
    "The same seed gives the same intervals and the same report.":
        "相同的种子得到相同的区间和相同的报告。",
    "Compare the models": "比较模型",
    "Choose a paths dataset of this workspace.": "请选择本工作区的转化路径数据集。",
    "Choose at least one model.": "请至少选择一个模型。",
    # the report
    "Attribution report": "归因报告",
    "No such report in this workspace.": "本工作区中没有这份报告。",
    "a deleted dataset": "已删除的数据集",
    "This report is large, so it is computed in the background. This page shows the result as "
    "soon as it is ready.":
        "这份报告较大，正在后台计算。结果一出来，本页面就会显示。",
    "This report failed: {error}": "这份报告计算失败：{error}",
    "the reason was not kept": "未保留失败原因",
    "Check the journeys and the settings, then start the report again.":
        "请检查用户旅程数据和设置，然后重新生成报告。",
    "What each model credits": "各模型的功劳分配",
    "{model} had no conversions to credit.": "{model}没有可分配的转化。",
    "First touch gives all credit to the channel that started the journey: {channel} gets "
    "{share} of conversions.":
        "首次触点把全部功劳归于开启旅程的渠道：{channel} 获得 {share} 的转化。",
    "Last touch gives all credit to the channel that closed the journey: {channel} gets "
    "{share} of conversions.":
        "末次触点把全部功劳归于促成转化的最后一个渠道：{channel} 获得 {share} 的转化。",
    "Linear splits each conversion equally over the journey's touches: {channel} gets the "
    "most, {share} of conversions.":
        "线性模型把每次转化平分给旅程中的各触点：{channel} 获得最多，占 {share} 的转化。",
    "Position based favours the first and the last touch: {channel} gets the most, {share} of "
    "conversions.":
        "位置加权偏重首次和末次触点：{channel} 获得最多，占 {share} 的转化。",
    "Time decay favours the touches closest to the conversion: {channel} gets the most, "
    "{share} of conversions.":
        "时间衰减偏重离转化最近的触点：{channel} 获得最多，占 {share} 的转化。",
    "Markov chain credits the conversions that would be lost without a channel: {channel} gets "
    "the most, {share} of conversions.":
        "马尔可夫链按去掉某渠道会损失的转化来分配功劳：{channel} 获得最多，占 {share} 的转化。",
    "Shapley value shares each conversion among the channels that worked together: {channel} "
    "gets the most, {share} of conversions.":
        "Shapley 值把每次转化分给共同起作用的渠道：{channel} 获得最多，占 {share} 的转化。",
    "{model}: {channel} gets the most, {share} of conversions.":
        "{model}：{channel} 获得最多，占 {share} 的转化。",
    "The models disagree most on {channel}: {low} of conversions under {low_model}, {high} "
    "under {high_model}.":
        "各模型分歧最大的是 {channel}：在{low_model}下占 {low} 的转化，在{high_model}下占 "
        "{high}。",
    "How to read this": "如何解读",
    "Every model shares out the same conversions; they differ only in the rule. Rule-based "
    "models (first touch, last touch, linear, position based, time decay) follow a fixed rule; "
    "Markov chain and Shapley value learn from how journeys with and without a channel end.":
        "每个模型分配的都是同样的转化，区别只在规则。基于规则的模型（首次触点、末次触点、线性、"
        "位置加权、时间衰减）遵循固定规则；马尔可夫链和 Shapley 值则从有无某渠道的旅程结局中学习。",
    "A channel whose share is about the same under every model has robust credit. A channel "
    "whose share changes a lot depends on the rule you choose: prefer the data-driven models "
    "(Markov chain, Shapley value) and look at the intervals.":
        "在各模型下份额相近的渠道，其功劳是稳健的。份额变化很大的渠道，结论取决于所选规则：请优先"
        "参考数据驱动的模型（马尔可夫链、Shapley 值），并查看区间。",
    "The intervals in brackets hold the credit in {level} of resamples of the journeys: the "
    "narrower, the surer.":
        "方括号中的区间涵盖了 {level} 的旅程重抽样结果：区间越窄，结论越可靠。",
    "Models side by side": "模型并排对比",
    "Conversions credited to each channel by model, with the channel's share in parentheses":
        "各模型分给每个渠道的转化数，括号内为该渠道的占比",
    "Conversion value credited to each channel, by model": "各模型分给每个渠道的转化价值",
    "Share of conversions by channel and model; the error bars are the intervals.":
        "各渠道在各模型下的转化占比；误差线为区间。",
    "Downloads": "下载",
    "The comparison as CSV": "对比表（CSV）",
    "Credit per journey and channel as CSV": "按旅程和渠道的功劳明细（CSV）",
    "(computed again from the journeys; it can take a moment)":
        "（根据旅程重新计算，可能需要一点时间）",
    "Credit per journey cannot be downloaded: the dataset of this report was deleted.":
        "无法下载按旅程的功劳明细：这份报告的数据集已被删除。",
    "Credit per journey is too large to compute here; run spendwise attribute with --credit on "
    "the file.":
        "按旅程的功劳明细太大，无法在此计算；请对文件运行 spendwise attribute 并加上 --credit。",
    "This report is not ready; its downloads exist once it has succeeded.":
        "这份报告尚未完成；完成后才能下载。",
    "The dataset of this report was deleted, so its per-journey credit cannot be computed again.":
        "这份报告的数据集已被删除，无法重新计算按旅程的功劳明细。",
    "This dataset is too large to compute per-journey credit here; run spendwise attribute "
    "with --credit on the file.":
        "该数据集太大，无法在此计算按旅程的功劳明细；请对文件运行 spendwise attribute 并加上 "
        "--credit。",
    "How this report was made": "这份报告是如何生成的",
    "Journeys": "用户旅程",
    "deleted": "已删除",
    "Version": "版本",
}
